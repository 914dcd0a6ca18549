# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# module.mk -- build keepalive_responder with GNU make, out of tree
#
#   make -f module.mk [all|install|clean]
#
# Variables: BUILD (build-mk), MODULE_DIR, DESTDIR, BARESIP_INCLUDE (a
# folder with a real baresip.h), BARESIP_VERSION (x.y.z: the project's
# declarations of that ABI), WERROR=1, and CC, CFLAGS, LDFLAGS.

MOD        := keepalive_responder
SRCDIR     := modules/$(MOD)
BUILD      ?= build-mk
MODULE_DIR ?= /usr/lib/baresip/modules
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g

SRCS := $(sort $(wildcard $(SRCDIR)/*.c))
OBJS := $(patsubst $(SRCDIR)/%.c,$(BUILD)/%.o,$(SRCS))

RE_VERSION := $(shell $(PKG_CONFIG) --modversion libre)
ifeq ($(RE_VERSION),)
$(error libre not found by $(PKG_CONFIG): install libre-dev)
endif

# Which baresip, and the flags for it: api.sh, as in every build
API_ARGS := --cflags --libre $(RE_VERSION)
ifneq ($(BARESIP_INCLUDE),)
API_ARGS += --header $(BARESIP_INCLUDE)/baresip.h
else ifneq ($(BARESIP_VERSION),)
API_ARGS += --version $(BARESIP_VERSION)
endif
API_FLAGS := $(shell sh $(SRCDIR)/api.sh $(API_ARGS) || echo FAILED)
ifneq ($(filter FAILED,$(API_FLAGS)),)
$(error api.sh found no baresip to build for (see above))
endif

# The warnings baresip builds with, and a few more
KAR_CFLAGS := -std=c99 -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden \
	$(shell $(PKG_CONFIG) --cflags libre) $(API_FLAGS) -I$(SRCDIR) \
	$(if $(BARESIP_INCLUDE),-I$(BARESIP_INCLUDE)) \
	$(if $(filter 1,$(WERROR)),-Werror) \
	-Wall -Wextra -pedantic \
	-Wmissing-declarations -Wmissing-prototypes -Wstrict-prototypes \
	-Wbad-function-cast -Wsign-compare -Wnested-externs -Wshadow \
	-Waggregate-return -Wcast-align -Wold-style-definition \
	-Wdeclaration-after-statement -Wuninitialized -Wno-strict-aliasing

all: $(BUILD)/$(MOD).so

$(BUILD)/$(MOD).so: $(OBJS)
	$(CC) -shared $(LDFLAGS) -o $@ $^

$(BUILD)/%.o: $(SRCDIR)/%.c $(wildcard $(SRCDIR)/*.h) module.mk
	@mkdir -p $(BUILD)
	$(CC) $(KAR_CFLAGS) $(CFLAGS) -c $< -o $@

install: $(BUILD)/$(MOD).so
	install -D -m 0644 $< $(DESTDIR)$(MODULE_DIR)/$(MOD).so

clean:
	rm -rf $(BUILD)

.PHONY: all install clean
