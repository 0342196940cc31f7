"""console: agents' routing, canned responses, reports (filled by the console work)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('canned_responses', schema=None) as batch_op:
        batch_op.drop_column('title')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('last_assigned_at')
