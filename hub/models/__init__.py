"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from hub.models.base import Base  # noqa: F401
from hub.models.nodes import EnrolmentToken, Node, NodeKey  # noqa: F401
from hub.models.rounds import CombineStatus, Round  # noqa: F401
from hub.models.submissions import Submission  # noqa: F401
from hub.models.releases import Release, ReleaseCell  # noqa: F401
from hub.models.users import ApiToken, User  # noqa: F401
from hub.models.audit import AuditEvent  # noqa: F401
from hub.models.consortia import Consortium, ConsortiumMember  # noqa: F401
from hub.models.reference import Gemeente, PupilCount, ReferenceImport, Samenwerkingsverband, SwvMembership, Vestiging  # noqa: F401
from hub.models.exports import FactsheetArchive  # noqa: F401
from hub.models.overlap import OverlapCount  # noqa: F401
from hub.models.exchange import ExchangePayload, OverlapExchange  # noqa: F401
