// Start Swagger UI from the configuration the page carries as JSON (no inline script: CSP).
"use strict";
window.addEventListener("load", function () {
  var config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle(config);
});
