"""Local stack: PostgreSQL, Redis, third-party stand-ins and either layout, supervised."""

from stack_launcher.infra import Infra, InfraKind, UnsupportedOperation, provide_infra
from stack_launcher.records import read_records, wait_for_records, wait_for_records_async
from stack_launcher.stack import (
    LAYOUTS,
    PREPARE_HOOKS,
    Stack,
    StackConfig,
    UnknownLayoutError,
    register_layout,
    run_stack,
)
from stack_launcher.supervisor import (
    ExitReport,
    ProcessError,
    ProcessSpec,
    ProcessStats,
    Supervisor,
)

__all__ = [
    "LAYOUTS",
    "PREPARE_HOOKS",
    "ExitReport",
    "Infra",
    "InfraKind",
    "ProcessError",
    "ProcessSpec",
    "ProcessStats",
    "Stack",
    "StackConfig",
    "Supervisor",
    "UnknownLayoutError",
    "UnsupportedOperation",
    "provide_infra",
    "read_records",
    "register_layout",
    "run_stack",
    "wait_for_records",
    "wait_for_records_async",
]
