#
# module.mk -- in-tree build inside a make-based baresip 1.x source tree
#
# Copy this folder to the tree's modules/ and build with
#   make EXTRA_MODULES=keepalive_responder
# The tree's own include/baresip.h is used (host.c finds it).
#

MOD		:= keepalive_responder
$(MOD)_SRCS	:= $(notdir $(wildcard modules/$(MOD)/*.c))

include mk/mod.mk
