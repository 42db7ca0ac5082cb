/*
 * cmd_status.c: `status [--json]` -- the project's runs and services as
 * the engine sees them, from labels alone (a manifest is not needed: -p
 * PROJECT is enough).
 *
 * "ready": the container runs and its healthcheck, if it has one, says
 * healthy -- or the run is kept and the engine has reported no check of
 * the service that began after `up` found everything ready (the keep
 * marker's ready-at label): `up` runs the healthcheck's test itself and
 * sees readiness before the engine's first interval has passed, and a
 * gated service's engine health is "unhealthy" from its hold until its
 * next check. The ready: probes are orchestrate's own and ran during
 * `up`; status does not repeat them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "engine_ops.h"
#include "error.h"
#include "labels.h"
#include "runs.h"
#include "util.h"

static const char status_usage[] = "usage: orchestrate status [--json]\n";

struct row {
	const char *run;
	const char *service;
	const char *role;
	const char *name;
	struct engine_container_info info;
	int have_info;
	int ready;
};

struct run {
	const char *id;
	const char *state; /* kept, in use, stale, unknown */
	const char *why;   /* unknown: why the owner cannot be checked */
	struct run_owner owner;
	int have_owner;
	int64_t ready_at; /* ms since the epoch; 0: not kept */
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->run, y->run);

	if (c)
		return c;
	c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->role, y->role);
}

static const char *lab(const struct engine_object *o, const char *k)
{
	const char *v = engine_object_label(o, k);

	return v ? v : "";
}

static struct run *find_run(struct run *runs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(runs[i].id, id))
			return &runs[i];
	return NULL;
}

/*
 * A kept run's service whose engine health is not "healthy" yet: ready
 * while the engine has reported no check that began after `up` found the
 * run ready (a failed one makes the engine's view count again).
 */
static int no_check_since(const struct engine_container_info *info,
                          const struct run *r)
{
	int64_t began;

	if (!r || !r->ready_at)
		return 0;
	if (!info->health_log_start)
		return 1;
	if (parse_rfc3339_ms(info->health_log_start, &began))
		return 0;
	return began < r->ready_at;
}

static void add_run(struct run **runs, size_t *n, size_t *alloc,
                    const struct engine_object *o)
{
	const char *id = engine_object_label(o, LABEL_RUN_ID);
	struct run *r;

	if (!id || find_run(*runs, *n, id))
		return;
	ALLOC_GROW(*runs, *n + 1, *alloc);
	r = &(*runs)[(*n)++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->have_owner = runs_object_owner(o, &r->owner) == 0;
}

static void print_json(const char *project, struct run *runs, size_t nruns,
                       struct row *rows, size_t nrows)
{
	cJSON *root = cJSON_CreateObject(), *jruns;
	char *text;

	cJSON_AddStringToObject(root, "project", project);
	jruns = cJSON_AddArrayToObject(root, "runs");
	for (size_t r = 0; r < nruns; r++) {
		cJSON *jr = cJSON_CreateObject(), *svcs;

		cJSON_AddStringToObject(jr, "run_id", runs[r].id);
		cJSON_AddStringToObject(jr, "state", runs[r].state);
		svcs = cJSON_AddArrayToObject(jr, "services");
		for (size_t i = 0; i < nrows; i++) {
			const struct row *w = &rows[i];
			cJSON *js, *eps;

			if (strcmp(w->run, runs[r].id))
				continue;
			js = cJSON_CreateObject();
			cJSON_AddStringToObject(js, "name", w->service);
			cJSON_AddStringToObject(js, "role", w->role);
			cJSON_AddStringToObject(js, "container", w->name);
			cJSON_AddStringToObject(js, "state",
			                        w->have_info && w->info.status
			                                ? w->info.status
			                                : "unknown");
			cJSON_AddBoolToObject(js, "ready", w->ready);
			if (w->have_info && w->info.health)
				cJSON_AddStringToObject(js, "health",
				                        w->info.health);
			else
				cJSON_AddNullToObject(js, "health");
			cJSON_AddStringToObject(js, "container_id",
			                        w->have_info ? w->info.id : "");
			eps = cJSON_AddArrayToObject(js, "endpoints");
			for (size_t k = 0; w->have_info && k < w->info.nports;
			     k++) {
				const struct engine_port_binding *p =
				        &w->info.ports[k];
				cJSON *ep;

				if (p->host_port <= 0)
					continue;
				ep = cJSON_CreateObject();
				cJSON_AddStringToObject(
				        ep, "host",
				        p->host_ip ? p->host_ip : "127.0.0.1");
				cJSON_AddNumberToObject(ep, "port",
				                        p->host_port);
				cJSON_AddNumberToObject(ep, "container_port",
				                        p->container_port);
				cJSON_AddStringToObject(
				        ep, "protocol",
				        p->protocol ? p->protocol : "tcp");
				cJSON_AddItemToArray(eps, ep);
			}
			cJSON_AddItemToArray(svcs, js);
		}
		cJSON_AddItemToArray(jruns, jr);
	}
	text = cJSON_Print(root);
	puts(text);
	free(text);
	cJSON_Delete(root);
}

/* Labels and states are anyone's to write: printed escaped (util.h). */
static void print_text(const char *project, struct run *runs, size_t nruns,
                       struct row *rows, size_t nrows)
{
	int w = 7;

	for (size_t i = 0; i < nrows; i++) {
		char *svc = xescape(rows[i].service);

		if ((int)strlen(svc) > w)
			w = (int)strlen(svc);
		free(svc);
	}
	printf("project '%s': %zu run%s\n", project, nruns,
	       nruns == 1 ? "" : "s");
	for (size_t r = 0; r < nruns; r++) {
		char *id = xescape(runs[r].id);

		if (runs[r].why)
			printf("\nrun %s (unknown: owner pid %ld %s)\n", id,
			       runs[r].owner.pid, runs[r].why);
		else
			printf("\nrun %s (%s)\n", id, runs[r].state);
		free(id);
		printf("  %-*s  %-7s  %-10s  %-5s  %-9s  %-12s  %s\n", w,
		       "SERVICE", "ROLE", "STATE", "READY", "HEALTH",
		       "CONTAINER", "ENDPOINTS");
		for (size_t i = 0; i < nrows; i++) {
			const struct row *x = &rows[i];
			const struct engine_container_info *in = &x->info;
			char *f[5];
			size_t n = 0;

			if (strcmp(x->run, runs[r].id))
				continue;
			f[0] = xescape(x->service);
			f[1] = xescape(x->role);
			f[2] = xescape(x->have_info && in->status ? in->status
			                                          : "?");
			f[3] = xescape(x->have_info && in->health ? in->health
			                                          : "-");
			f[4] = xescape(x->have_info && in->id ? in->id : "?");
			printf("  %-*s  %-7s  %-10s  %-5s  %-9s  %-12.12s  ", w,
			       f[0], f[1], f[2], x->ready ? "yes" : "no", f[3],
			       f[4]);
			for (size_t k = 0; k < 5; k++)
				free(f[k]);
			for (size_t k = 0; x->have_info && k < in->nports;
			     k++) {
				char *ip, *proto;

				if (in->ports[k].host_port <= 0)
					continue;
				ip = xescape(in->ports[k].host_ip
				                     ? in->ports[k].host_ip
				                     : "127.0.0.1");
				proto = xescape(in->ports[k].protocol
				                        ? in->ports[k].protocol
				                        : "tcp");
				printf("%s%s:%d -> %d/%s", n++ ? ", " : "", ip,
				       in->ports[k].host_port,
				       in->ports[k].container_port, proto);
				free(ip);
				free(proto);
			}
			puts(n ? "" : "-");
		}
	}
}

int cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct engine_object_list cl = { 0 }, nl = { 0 }, vl = { 0 };
	struct engine_label f[1];
	struct row *rows = NULL;
	struct run *runs = NULL;
	size_t nrows = 0, nruns = 0, ralloc = 0;
	int c, json = 0, rc, ret = ORCH_EXIT_OK;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return 0;
		default:
			return cmd_usage_error(status_usage, "bad option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(status_usage, "unexpected '%s'",
		                       argv[optind]);
	if (!ctx->project)
		return cmd_usage_error(status_usage,
		                       "no project: give -p PROJECT or run "
		                       "beside a manifest");

	f[0] = (struct engine_label){ LABEL_PROJECT, ctx->project };
	rc = engine_container_list(ctx->engine, f, 1, &cl);
	if (rc == 0)
		rc = engine_network_list(ctx->engine, f, 1, &nl);
	if (rc == 0)
		rc = engine_volume_list(ctx->engine, f, 1, &vl);
	if (rc) {
		ret = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
		goto out;
	}

	for (size_t i = 0; i < cl.n; i++)
		add_run(&runs, &nruns, &ralloc, &cl.items[i]);
	for (size_t i = 0; i < nl.n; i++)
		add_run(&runs, &nruns, &ralloc, &nl.items[i]);
	for (size_t i = 0; i < nruns; i++) {
		struct run *r = &runs[i];
		int kept = 0;

		for (size_t k = 0; k < vl.n; k++)
			if (!strcmp(lab(&vl.items[k], LABEL_RUN_ID), r->id) &&
			    !strcmp(lab(&vl.items[k], LABEL_ROLE), ROLE_KEEP)) {
				kept = 1;
				if (parse_rfc3339_ms(
				            lab(&vl.items[k], LABEL_READY_AT),
				            &r->ready_at))
					r->ready_at = 0;
			}
		if (kept)
			r->state = "kept";
		else if (!r->have_owner)
			r->state = "stale";
		else
			switch (run_owner_check(&r->owner, &r->why)) {
			case OWNER_ALIVE:
				r->state = "in use";
				break;
			case OWNER_GONE:
				r->state = "stale";
				break;
			case OWNER_UNKNOWN:
				/* gc leaves it alone (gc --force removes it) */
				r->state = "unknown";
				break;
			}
	}

	rows = xcalloc(cl.n ? cl.n : 1, sizeof(*rows));
	for (size_t i = 0; i < cl.n; i++) {
		const struct engine_object *o = &cl.items[i];
		struct row *w;

		if (!engine_object_label(o, LABEL_RUN_ID))
			continue;
		w = &rows[nrows++];
		w->run = lab(o, LABEL_RUN_ID);
		w->service = lab(o, LABEL_SERVICE);
		w->role = lab(o, LABEL_ROLE);
		w->name = o->name ? o->name : "";
		if (engine_container_inspect(ctx->engine, o->id, &w->info) ==
		    0) {
			w->have_info = 1;
			/* a one-shot service that exited 0 did its job */
			w->ready = (w->info.running &&
			            (!w->info.health ||
			             !strcmp(w->info.health, "healthy") ||
			             no_check_since(
			                     &w->info,
			                     find_run(runs, nruns, w->run)))) ||
			           (!w->info.running && w->info.status &&
			            !strcmp(w->info.status, "exited") &&
			            w->info.exit_code == 0);
		}
	}
	qsort(rows, nrows, sizeof(*rows), row_cmp);

	if (json)
		print_json(ctx->project, runs, nruns, rows, nrows);
	else if (!nruns)
		printf("project '%s': nothing running\n", ctx->project);
	else
		print_text(ctx->project, runs, nruns, rows, nrows);
out:
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].have_info)
			engine_container_info_release(&rows[i].info);
	free(rows);
	free(runs);
	engine_object_list_release(&cl);
	engine_object_list_release(&nl);
	engine_object_list_release(&vl);
	return ret;
}
