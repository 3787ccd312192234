"""submission provider names: the names a node's partial gives the providers of its cells

Revision ID: c9d2e6a4f1b7
Revises: b8c4e2f7a1d9
Create Date: 2026-12-15 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9d2e6a4f1b7'
down_revision = 'b8c4e2f7a1d9'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a submission stored before names were kept has none (NULL), and its envelope is not
    # decoded again here; the node's next partial brings them.
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_names', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('provider_names')
