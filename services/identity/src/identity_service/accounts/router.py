"""Internal account routes (core_api is the only caller)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from identity_service.accounts import service
from identity_service.accounts.schemas import AccountCreate, AccountRead
from identity_service.deps import SessionDep
from identity_service.schemas import AccountId

router = APIRouter(prefix="/internal/accounts", tags=["accounts"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_account(data: AccountCreate, session: SessionDep) -> AccountRead:
    return await service.create_account(session=session, data=data)


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(account_id: AccountId, session: SessionDep) -> Response:
    await service.delete_account(session=session, account_id=account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
