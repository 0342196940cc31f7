"""audit_log: who did what in a workspace (assign, resolve, delete, settings changes);
erased_visitors: the ids of visitors whose data was deleted (their tokens are refused)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('workspace_id', sa.String(length=26), nullable=False),
    sa.Column('actor_id', sa.String(length=26), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_audit_log_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_workspace_id_id', ['workspace_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_workspace_action', ['workspace_id', 'action', 'id'], unique=False)

    op.create_table('erased_visitors',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('workspace_id', sa.String(length=26), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_erased_visitors_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_visitors'))
    )
    with op.batch_alter_table('erased_visitors', schema=None) as batch_op:
        batch_op.create_index('ix_erased_visitors_workspace', ['workspace_id', 'erased_at'], unique=False)


def downgrade():
    with op.batch_alter_table('erased_visitors', schema=None) as batch_op:
        batch_op.drop_index('ix_erased_visitors_workspace')

    op.drop_table('erased_visitors')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_workspace_action')
        batch_op.drop_index('ix_audit_log_workspace_id_id')

    op.drop_table('audit_log')
