# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# Sources of the module, shared by the top-level build and the in-tree
# fragment.  KAR_CORE_SRCS need libre only (the unit tests link them);
# KAR_HOST_SRCS talk to baresip.
set(KAR_CORE_SRCS
  chain.c
  conf.c
  events.c
  guard.c
  hdr.c
  udpdrop.c
  policy.c
  reply.c
  sdp.c
  servers.c
  srctab.c
  stats.c
  validate.c
  watch.c
)
set(KAR_HOST_SRCS
  actions.c
  host.c
  keepalive_responder.c
  wiring.c
)
