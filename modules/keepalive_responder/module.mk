#
# module.mk -- in-tree build inside a make-based baresip source tree
# (1.x, and 2.0 to 2.10, which still have a Makefile)
#
# Copy this folder to the tree's modules/ and build with the tree:
#   make EXTRA_MODULES=keepalive_responder
#   make EXTRA_MODULES=keepalive_responder install
# The tree's own include/baresip.h is used.  Which API generation it is
# (see host.c) is found by looking for each call in that header, as the
# CMake builds do by compiling against it.
#

MOD		:= keepalive_responder
$(MOD)_SRCS	:= $(notdir $(wildcard modules/$(MOD)/*.c))

KAR_BARESIP_H	:= include/baresip.h
kar_have	= $(if $(shell grep -sw '$(1)' $(KAR_BARESIP_H)),-DKAR_HAVE_$(2))
$(MOD)_CFLAGS	:= -DHAVE_BARESIP_H -DKAR_COMPAT_CHECKED
$(MOD)_CFLAGS	+= $(call kar_have,void module_event,MODULE_EVENT)
$(MOD)_CFLAGS	+= $(call kar_have,void ua_event,UA_EVENT)
$(MOD)_CFLAGS	+= $(call kar_have,enum bevent_ev,BEVENT_EV)
$(MOD)_CFLAGS	+= $(call kar_have,void vlog,VLOG)
$(MOD)_CFLAGS	+= $(call kar_have,void _loglv,LOGLV)

include mk/mod.mk
