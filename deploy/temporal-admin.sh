#!/bin/sh
# One-shot: the namespace and the custom search attributes of DESIGN.md (idempotent).
set -eu
NS=default
temporal operator namespace describe --namespace "$NS" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$NS" --retention 30d
for attr in AuthStatus=Keyword AuthTrack=Keyword AuthPeriodEnd=Datetime \
            AuthRenewalsUsed=Int AuthEscalated=Bool MemberRef=Keyword \
            AuthRunOutUntil=Datetime; do
  name=${attr%%=*}; type=${attr#*=}
  temporal operator search-attribute create --namespace "$NS" --name "$name" --type "$type" || true
done
