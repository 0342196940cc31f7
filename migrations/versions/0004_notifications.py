"""notifications: push deliveries, webhook deliveries, e-mail (filled by the notifications work)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_windows',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('workspace_id', sa.String(length=26), nullable=False),
    sa.Column('ticket_id', sa.String(length=26), nullable=False),
    sa.Column('recipient_type', sa.String(length=16), nullable=False),
    sa.Column('recipient_id', sa.String(length=26), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('pending_kind', sa.String(length=16), nullable=True),
    sa.Column('pending_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_id', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_notification_windows_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_notification_windows_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_windows')),
    sa.UniqueConstraint('workspace_id', 'ticket_id', 'recipient_type', 'recipient_id', name='uq_notification_windows_recipient')
    )
    op.create_table('deliveries',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('workspace_id', sa.String(length=26), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=26), nullable=False),
    sa.Column('ticket_id', sa.String(length=26), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.String(length=26), nullable=True),
    sa.Column('subscription_id', sa.String(length=26), nullable=True),
    sa.Column('address', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'], name=op.f('fk_deliveries_subscription_id_push_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_deliveries_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_deliveries_idempotency_key'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_status_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_ws_status_due', ['workspace_id', 'status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_ws_webhook_created', ['workspace_id', 'webhook_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_ws_webhook_created')
        batch_op.drop_index('ix_deliveries_ws_status_due')
        batch_op.drop_index('ix_deliveries_status_due')

    op.drop_table('deliveries')
    op.drop_table('notification_windows')
