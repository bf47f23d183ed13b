"""Unbound extensions; create_app binds them to an application."""

from flask_babel import Babel
from flask_migrate import Migrate
from ancillary.openapi import JsonApi
from flask_sqlalchemy import SQLAlchemy

from ancillary.db import Base

db = SQLAlchemy(model_class=Base, disable_autonaming=True)
migrate = Migrate()
api = JsonApi()
babel = Babel()
