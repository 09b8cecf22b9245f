"""Account rules: one account per email, passwords stored only as Argon2 hashes."""

from __future__ import annotations

from service_common.errors import Conflict
from service_common.passwords import hash_password
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from identity_service.accounts import repository
from identity_service.accounts.schemas import AccountCreate, AccountRead


async def create_account(*, session: AsyncSession, data: AccountCreate) -> AccountRead:
    """Create an account, or raise Conflict when the email is taken."""
    password_hash = await hash_password(data.password)
    try:
        # No "is it taken?" pre-check: two concurrent sign-ups would both pass it.
        row = await repository.insert_account(
            session, email=data.email, password_hash=password_hash
        )
    except IntegrityError as exc:
        raise Conflict("email already registered") from exc
    return AccountRead.model_validate(dict(row))


async def delete_account(*, session: AsyncSession, account_id: int) -> None:
    """Delete an account; deleting one that is gone already succeeds (compensation retries)."""
    await repository.delete_account(session, account_id=account_id)
