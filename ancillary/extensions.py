"""Unbound extensions; create_app binds them to an application."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from ancillary.db import Base
from ancillary.openapi import JsonApi

db = SQLAlchemy(model_class=Base, disable_autonaming=True)
migrate = Migrate()
api = JsonApi()
babel = Babel()
