/*
 * reference.h: image references and object names checked before they go
 * into a request path or body, so that a manifest cannot make us send
 * `GET /v1.41/images/../../v1.41/containers/json?all=1&x=/json`.
 *
 * Pure: no engine, no allocation. The grammar is the distribution
 * reference grammar (docker/distribution reference/regexp.go, which the
 * engine parses with):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] component ( "/" component )*
 *                 at most 255 characters
 *   domain     := host [ ":" port ]     host: DNS labels joined by '.'
 *                 ([a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]),
 *                 or an IPv6 address in brackets; port: digits
 *   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" hex   (sha256: 64, sha384: 96, sha512:
 *                 128 lower-case hex digits, as the engine accepts)
 *
 * The first part of a name is its domain when it is followed by '/' and
 * reads as a host (it may then have upper case, '.' and a port); every
 * other part is a lower-case path component.
 */
#ifndef ORCH_REFERENCE_H
#define ORCH_REFERENCE_H

#define REFERENCE_NAME_MAX 255
#define REFERENCE_TAG_MAX  128

/*
 * 0 when ref is a valid image reference ("busybox",
 * "localhost:5000/a/b:1.0", "ghcr.io/x/y@sha256:..."), otherwise
 * ORCH_EINVALID with a message saying what is wrong:
 *   "invalid image reference 'Busybox': repository name must be lower
 *    case: 'Busybox'"
 */
int reference_check_image(const char *ref);

/*
 * 0 when name is a valid name for an object of kind "container",
 * "network" or "volume" as the engine defines them: [a-zA-Z0-9] then
 * [a-zA-Z0-9_.-]*; the engine wants at least two characters for
 * containers and volumes. Otherwise ORCH_EINVALID:
 *   "invalid container name 'a b': letters, digits, '_', '.' and '-',
 *    starting with a letter or digit"
 */
int reference_check_name(const char *kind, const char *name);

#endif
