# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
#
# module.mk -- in-tree build inside a make-based baresip source tree
# (1.x, and 2.0 to 2.10).  Copy this folder to the tree's modules/ and
# build with the tree: make EXTRA_MODULES=keepalive_responder
#

MOD		:= keepalive_responder
$(MOD)_SRCS	:= $(notdir $(wildcard modules/$(MOD)/*.c))
$(MOD)_CFLAGS	:= $(shell sh modules/$(MOD)/api.sh --cflags \
			--header include/baresip.h)

include mk/mod.mk
