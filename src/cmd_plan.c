/*
 * cmd_plan.c: print the stages a strategy would run, creating nothing.
 * The planner (plan.c) decides; this only renders its result, for people
 * or, with --json, as the document docs/strategies.md describes
 * (plan_json.c).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "error.h"
#include "manifest.h"
#include "plan.h"
#include "plan_json.h"
#include "util.h"

static const char usage[] =
        "usage: orchestrate plan [--strategy S] [--middle N] [--json]\n";

/*
 * "a, b (new)": first applies before second (a replaced stub is new too,
 * but saying it replaces the stub says more); "none" for an empty list
 */
static void
print_services(const struct manifest *m, const struct plan_indices *l,
               const struct plan_indices *first, const char *first_note,
               const struct plan_indices *second, const char *second_note)
{
	if (!l->n)
		fputs("none", stdout);
	for (size_t i = 0; i < l->n; i++) {
		const struct mf_service *s = &m->services[l->v[i]];
		const char *note = NULL;

		for (size_t j = 0; second && j < second->n; j++)
			if (second->v[j] == l->v[i])
				note = second_note;
		for (size_t j = 0; first && j < first->n; j++)
			if (first->v[j] == l->v[i])
				note = first_note;
		printf("%s%s", i ? ", " : "", s->name);
		if (mf_service_external(s))
			fputs(" (external)", stdout);
		if (note)
			printf(" (%s)", note);
	}
	fputc('\n', stdout);
}

static void print_edges(const struct manifest *m, const struct plan_edges *l)
{
	if (!l->n)
		fputs("none", stdout);
	for (size_t i = 0; i < l->n; i++)
		printf("%s%s -> %s", i ? ", " : "",
		       m->services[l->v[i].caller].name,
		       m->services[l->v[i].dep].name);
}

static void print_plan(const struct manifest *m, const struct plan *p)
{
	printf("strategy %s", strategy_name(p->strategy));
	if (p->middle >= 0)
		printf(" (middle level %d)", p->middle);
	printf(": %zu stage%s\n", p->nstages, p->nstages == 1 ? "" : "s");
	for (int level = 0; level <= p->top && m->nservices; level++) {
		int first = 1;

		printf("  level %d:", level);
		for (size_t i = 0; i < m->nservices; i++)
			if (p->levels[i] == level) {
				printf("%s %s", first ? "" : ",",
				       m->services[i].name);
				first = 0;
			}
		fputc('\n', stdout);
	}
	for (size_t i = 0; i < p->notes.n; i++)
		printf("note: %s\n", p->notes.v[i]);

	for (size_t i = 0; i < p->nstages; i++) {
		const struct plan_stage *st = &p->stages[i];

		printf("\nstage %zu/%zu: %s\n", i + 1, p->nstages, st->label);
		fputs("  real:       ", stdout);
		print_services(m, &st->real, &st->stubs_replaced,
		               "replaces stub", &st->new_real, "new");
		fputs("  stubs:      ", stdout);
		print_services(m, &st->stubs, &st->stubs_started, "new", NULL,
		               NULL);
		if (st->absent.n) {
			fputs("  absent:     ", stdout);
			print_services(m, &st->absent, NULL, NULL, NULL, NULL);
		}
		fputs("  new edges:  ", stdout);
		print_edges(m, &st->new_edges);
		fputc('\n', stdout);
		fputs("  suites:     ", stdout);
		if (!st->nruns)
			fputs("none\n", stdout);
		for (size_t k = 0; k < st->nruns; k++) {
			const struct plan_run *r = &st->runs[k];

			if (k)
				fputs("              ", stdout);
			fputs(m->suites[r->suite].name, stdout);
			if (r->previous_stage >= 0)
				printf(" (re-run after stage %d)",
				       r->previous_stage + 1);
			if (r->stubs.n) {
				fputs(" (against stubs: ", stdout);
				for (size_t j = 0; j < r->stubs.n; j++)
					printf("%s%s", j ? ", " : "",
					       m->services[r->stubs.v[j]].name);
				fputc(')', stdout);
			}
			fputc('\n', stdout);
		}
		for (size_t k = 0; k < st->notes.n; k++)
			printf("  note:       %s\n", st->notes.v[k]);
	}
}

int cmd_plan(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "middle", required_argument, NULL, 'm' },
		{ "strategy", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *strategy_opt = NULL;
	struct plan *p = NULL;
	struct buf out = BUF_INIT;
	int json = 0, middle = -1, c, rc;

	while ((c = getopt_long(argc, argv, "hjm:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'j':
			json = 1;
			break;
		case 'm':
			if (cmd_parse_middle(usage, optarg, &middle))
				return ORCH_EXIT_USAGE;
			break;
		case 's':
			strategy_opt = optarg;
			break;
		default:
			fputs(usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'",
		                       argv[optind]);

	rc = cmd_make_plan(ctx, strategy_opt, middle, &p);
	if (rc)
		goto out;
	rc = 0;
	if (json) {
		if (plan_json(ctx->manifest, p, &out)) {
			rc = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
			goto out;
		}
		fwrite(out.data, 1, out.len, stdout);
	} else {
		print_plan(ctx->manifest, p);
	}
out:
	buf_release(&out);
	plan_free(p);
	return rc;
}
