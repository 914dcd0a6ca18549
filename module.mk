#
# module.mk -- build keepalive_responder with GNU make, out of tree
#
#   make -f module.mk                 builds $(BUILD)/keepalive_responder.so
#   make -f module.mk install         into $(DESTDIR)$(MODULE_DIR)
#   make -f module.mk clean
#
# Variables: CC, CFLAGS, LDFLAGS, BUILD (build-mk), MODULE_DIR
# (/usr/lib/baresip/modules), DESTDIR, BARESIP_INCLUDE (a folder with a
# real baresip.h; else the project's baresip_abi.h, the baresip 1.0 ABI,
# is used), WERROR=1.
#

MOD        := keepalive_responder
SRCDIR     := modules/$(MOD)
BUILD      ?= build-mk
MODULE_DIR ?= /usr/lib/baresip/modules
PKG_CONFIG ?= pkg-config
CC         ?= cc

SRCS := $(sort $(wildcard $(SRCDIR)/*.c))
OBJS := $(patsubst $(SRCDIR)/%.c,$(BUILD)/%.o,$(SRCS))

RE_CFLAGS := $(shell $(PKG_CONFIG) --cflags libre)
ifeq ($(RE_CFLAGS),)
$(error libre not found by $(PKG_CONFIG): install libre-dev)
endif

# libre before 3.0 needs the defines its own re.mk derives (see
# CMakeLists.txt)
ifneq ($(shell $(PKG_CONFIG) --atleast-version=3.0 libre && echo y),y)
RE_CFLAGS += -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 -DRELEASE
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
	$(RE_CFLAGS) -I$(SRCDIR) $(WARNINGS)
ifneq ($(BARESIP_INCLUDE),)
# A real baresip.h: which API generation it is (see host.c), by looking
# for each call in it, as the in-tree fragment does
KAR_BARESIP_H := $(BARESIP_INCLUDE)/baresip.h
kar_have = $(if $(shell grep -sw '$(1)' $(KAR_BARESIP_H)),-DKAR_HAVE_$(2))
KAR_CFLAGS += -I$(BARESIP_INCLUDE) -DHAVE_BARESIP_H -DKAR_COMPAT_CHECKED \
	$(call kar_have,void module_event,MODULE_EVENT) \
	$(call kar_have,void ua_event,UA_EVENT) \
	$(call kar_have,enum bevent_ev,BEVENT_EV) \
	$(call kar_have,void vlog,VLOG) \
	$(call kar_have,void _loglv,LOGLV)
endif

# libre 3.10 and later have only RE_ARRAY_SIZE
ifeq ($(shell $(PKG_CONFIG) --atleast-version=3.10 libre && echo y),y)
KAR_CFLAGS += -DARRAY_SIZE=RE_ARRAY_SIZE
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
