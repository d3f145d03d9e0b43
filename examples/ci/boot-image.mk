# Boot-image CI with lkvol (README "Boot-image CI"): include this file or copy it.
#   make -f boot-image.mk lock       a person re-resolves every tag, then reviews and commits lkvol.lock
#   make -f boot-image.mk image.tar  CI: the pinned images only (exit 2 when lkvol.lock does not match
#                                    the system file), one reproducible tar with every bundle's rootfs
#   make -f boot-image.mk offline    the same build from the cache alone: no registry is contacted
LKVOL ?= lkvol
SYSTEM ?= system.yml
LOCK := $(dir $(SYSTEM))lkvol.lock
IMAGE ?= image.tar
LKVOL_FLAGS ?=
# Synthesised entries of the tar are dated this (the last commit's time in a checkout, else 0).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

.PHONY: lock offline

lock:
	$(LKVOL) lock --update $(LKVOL_FLAGS) $(SYSTEM)

$(IMAGE): $(SYSTEM) $(LOCK)
	$(LKVOL) build --locked --rootfs $(LKVOL_FLAGS) -o $@ $(SYSTEM)

offline:
	$(LKVOL) build --locked --offline --rootfs $(LKVOL_FLAGS) -o $(IMAGE) $(SYSTEM)
