# Study and reuse targets (included from the top-level Makefile, which defines BIN and `setup`).
#   make new-service NAME=billing            fork tools/service_template into services/billing
#   make migration-diff [SLICE=identity]     before services beside the after code that replaced them
#   make migration-diff HTML=diff.html       the same, side by side in one HTML page
# SLICE: identity, user, jobs, core_api or common (several: SLICE="user jobs"); default all.
NAME ?=
SLICE ?=
HTML ?=

.PHONY: new-service migration-diff

## Fork the service template: services/$(NAME), registered in the workspace, launcher and k8s.
new-service: setup
	@test -n "$(NAME)" || { echo "usage: make new-service NAME=<lowercase_identifier>, e.g. NAME=billing" >&2; exit 2; }
	$(BIN)/python tools/new_service.py $(NAME)

## Show what each after service replaced: summary, anti-pattern markers per fix, then the diff.
migration-diff: setup
	$(BIN)/python tools/migration_diff.py $(SLICE) $(if $(HTML),--html $(HTML))
