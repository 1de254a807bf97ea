#!/bin/sh
# /usr/bin/mesh-egress: the packaged jar through the launcher (class-data archive, see its header).
# The archive lives in /var/cache/mesh-egress, written by the service's own `run` (CacheDirectory=, owned by the
# service account): the launcher maps it for that account alone, never for root or another user.
MESH_EGRESS_JAR=${MESH_EGRESS_JAR:-/usr/share/mesh-egress/mesh-egress.jar}
MESH_EGRESS_CDS=${MESH_EGRESS_CDS:-/var/cache/mesh-egress/mesh-egress.jsa}
export MESH_EGRESS_JAR MESH_EGRESS_CDS
exec /usr/share/mesh-egress/launcher "$@"
