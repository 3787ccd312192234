"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from hub.models.base import Base  # noqa: F401
