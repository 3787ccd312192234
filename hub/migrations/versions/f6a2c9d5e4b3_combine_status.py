"""combine_status: the step a running combine is at (for the rounds page)

Revision ID: f6a2c9d5e4b3
Revises: e5f1b8c4d3a2
Create Date: 2027-01-20 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6a2c9d5e4b3'
down_revision = 'e5f1b8c4d3a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'combine_status',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('steps', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_combine_status_round_id_rounds'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('round_id', name=op.f('pk_combine_status')),
    )


def downgrade():
    op.drop_table('combine_status')
