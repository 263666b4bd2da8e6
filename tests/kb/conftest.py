"""kb/ is tested without Flask: a bare SQLAlchemy session on in-memory SQLite."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kb.db import Base
from tests import factories


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def make(session):
    return factories.Factory(session)
