#!/bin/sh
# /usr/bin/mesh-egress: the packaged jar through the launcher (class-data archive, see its header).
# The archive lives in /var/cache/mesh-egress, written by the service's own `run` (CacheDirectory=); other users
# only map it when it is there.
MESH_EGRESS_JAR=${MESH_EGRESS_JAR:-/usr/share/mesh-egress/mesh-egress.jar}
MESH_EGRESS_CDS=${MESH_EGRESS_CDS:-/var/cache/mesh-egress/mesh-egress.jsa}
export MESH_EGRESS_JAR MESH_EGRESS_CDS
exec /usr/share/mesh-egress/launcher "$@"
