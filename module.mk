# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
#
# module.mk -- build keepalive_responder with GNU make, out of tree
#
#   make -f module.mk                 builds $(BUILD)/keepalive_responder.so
#   make -f module.mk install         into $(DESTDIR)$(MODULE_DIR)
#   make -f module.mk clean
#
# Variables: CC, CFLAGS, LDFLAGS, BUILD (build-mk), MODULE_DIR
# (/usr/lib/baresip/modules), DESTDIR, BARESIP_INCLUDE (a folder with a
# real baresip.h; else the project's declarations of the installed
# baresip's ABI, baresip_abi.h), BARESIP_VERSION (build for this x.y.z
# with those declarations), WERROR=1.
#

MOD        := keepalive_responder
SRCDIR     := modules/$(MOD)
BUILD      ?= build-mk
MODULE_DIR ?= /usr/lib/baresip/modules
PKG_CONFIG ?= pkg-config
CC         ?= cc

SRCS := $(sort $(wildcard $(SRCDIR)/*.c))
OBJS := $(patsubst $(SRCDIR)/%.c,$(BUILD)/%.o,$(SRCS))

RE_VERSION := $(shell $(PKG_CONFIG) --modversion libre)
ifeq ($(RE_VERSION),)
$(error libre not found by $(PKG_CONFIG): install libre-dev)
endif
RE_CFLAGS := $(shell $(PKG_CONFIG) --cflags libre)
# librem became part of libre in 3.0 (see CMakeLists.txt)
ifneq ($(shell $(PKG_CONFIG) --atleast-version=3.0 libre && echo y),y)
RE_CFLAGS += $(shell $(PKG_CONFIG) --cflags librem 2>/dev/null)
endif

# Which baresip, and the flags for it: api.sh, as in every build
KAR_API_ARGS := --cflags --libre $(RE_VERSION)
ifneq ($(BARESIP_INCLUDE),)
KAR_API_ARGS += --header $(BARESIP_INCLUDE)/baresip.h
else ifneq ($(BARESIP_VERSION),)
KAR_API_ARGS += --version $(BARESIP_VERSION)
endif
KAR_API := $(shell sh $(SRCDIR)/api.sh $(KAR_API_ARGS) || echo FAILED)
ifneq ($(filter FAILED,$(KAR_API)),)
$(error api.sh found no baresip to build for (see above))
endif

WARNINGS := -Wall -Wextra -pedantic \
	-Wmissing-declarations -Wmissing-prototypes -Wstrict-prototypes \
	-Wbad-function-cast -Wsign-compare -Wnested-externs -Wshadow \
	-Waggregate-return -Wcast-align -Wold-style-definition \
	-Wdeclaration-after-statement -Wuninitialized -Wno-strict-aliasing
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

KAR_CFLAGS := -std=c99 -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden \
	$(RE_CFLAGS) $(KAR_API) -I$(SRCDIR) $(WARNINGS)
ifneq ($(BARESIP_INCLUDE),)
KAR_CFLAGS += -I$(BARESIP_INCLUDE)
endif

CFLAGS ?= -O2 -g

all: $(BUILD)/$(MOD).so

$(BUILD)/$(MOD).so: $(OBJS)
	$(CC) -shared $(LDFLAGS) -o $@ $^

$(BUILD)/%.o: $(SRCDIR)/%.c $(wildcard $(SRCDIR)/*.h) module.mk | $(BUILD)
	$(CC) $(KAR_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD):
	mkdir -p $@

install: $(BUILD)/$(MOD).so
	install -d $(DESTDIR)$(MODULE_DIR)
	install -m 0644 $< $(DESTDIR)$(MODULE_DIR)/$(MOD).so

clean:
	rm -rf $(BUILD)

.PHONY: all install clean
