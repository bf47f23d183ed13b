"""QR tokens, label rendering and image decoding: pure functions over bytes, no Flask."""
