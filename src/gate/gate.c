/*
 * gate.c: orchestrate-gate, the entrypoint of a service that waits for its
 * dependencies. `gate GOFILE -- ARGV...` waits until GOFILE exists, then
 * becomes ARGV (execvp's PATH search, environment kept), so the container
 * can be started early -- its network set up off the critical path --
 * while its real process begins only when orchestrate copies GOFILE in
 * (docs/internals.md, "The gate").
 *
 * It is copied into every gated container (and held in orchestrate's
 * memory while copying), so it is built without any libc: raw x86-64
 * system calls, a few KiB instead of glibc's static 680 KiB.
 */

#if !defined(__x86_64__) || !defined(__linux__)
#error "orchestrate-gate speaks x86-64 Linux system calls only"
#endif

#define SYS_write        1
#define SYS_stat         4
#define SYS_access       21
#define SYS_rt_sigaction 13
#define SYS_nanosleep    35
#define SYS_execve       59
#define SYS_exit         60

#define E_NOENT  2
#define E_ACCES  13
#define E_NOTDIR 20

#define SIG_KILL 9
#define SIG_CHLD 17
#define SIG_CONT 18
#define SIG_STOP 19
#define NSIG_STD 31

/* How often to look for GOFILE: cheap, and far below a start's cost. */
#define POLL_NS 2000000L

static long sys(long n, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long r;

	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
	                 : "rcx", "r11", "memory");
	return r;
}

static __attribute__((noreturn)) void leave(int code)
{
	for (;;)
		sys(SYS_exit, code, 0, 0, 0);
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	/* best effort: there is nothing to do when stderr is gone */
	sys(SYS_write, 2, (long)s, (long)len(s), 0);
}

/* Held processes leave at once, so down and stop stay fast. */
static void on_signal(int signo)
{
	leave(128 + signo);
}

/* The kernel's struct sigaction. x86-64 refuses to deliver a signal
 * without SA_RESTORER; the handler never returns, but a real sigreturn
 * stub costs nothing. */
#define SA_RESTORER 0x04000000UL
void gate_restore(void);
__asm__(".text\n"
        "gate_restore:\n"
        "	mov $15, %eax\n" /* rt_sigreturn */
        "	syscall\n");

struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static void handle(int signo)
{
	struct ksigaction sa;

	sa.handler = on_signal;
	sa.flags = SA_RESTORER;
	sa.restorer = gate_restore;
	sa.mask = 0;
	sys(SYS_rt_sigaction, signo, (long)&sa, 0, sizeof(sa.mask));
}

static int is(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/*
 * One candidate: exec it -- or, with check, only say whether exec would
 * find a runnable file there (0), as the error exec would give.
 */
static long try_path(const char *path, char **argv, char **envp, int check)
{
	char st[256]; /* struct stat: 144 bytes, st_mode at 24 on x86-64 */
	unsigned mode;
	long rc;

	if (!check)
		return sys(SYS_execve, (long)path, (long)argv, (long)envp, 0);
	rc = sys(SYS_stat, (long)path, (long)st, 0, 0);
	if (rc)
		return rc;
	mode = *(unsigned *)(void *)(st + 24);
	if ((mode & 0170000) != 0100000)
		return -E_ACCES;
	return sys(SYS_access, (long)path, 1 /* X_OK */, 0, 0) ? -E_ACCES : 0;
}

/* execvp(): a name without '/' is looked for along PATH. With check,
 * nothing is exec'd: 0 when exec would find something to run. */
static long run(char **argv, char **envp, int check)
{
	const char *path =
	        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[4096];
	long err = -E_NOENT, rc;
	unsigned long n = len(argv[0]);

	for (const char *p = argv[0]; *p; p++)
		if (*p == '/')
			return try_path(argv[0], argv, envp, check);
	for (char **e = envp; *e; e++)
		if ((*e)[0] == 'P' && (*e)[1] == 'A' && (*e)[2] == 'T' &&
		    (*e)[3] == 'H' && (*e)[4] == '=')
			path = *e + 5;
	while (*path) {
		unsigned long k = 0;

		while (path[k] && path[k] != ':')
			k++;
		if (k + 1 + n + 1 <= sizeof(buf)) {
			unsigned long o = 0;

			for (unsigned long i = 0; i < k; i++)
				buf[o++] = path[i];
			if (!k)
				buf[o++] = '.';
			buf[o++] = '/';
			for (unsigned long i = 0; i <= n; i++)
				buf[o++] = argv[0][i];
			rc = try_path(buf, argv, envp, check);
			if (check && rc == 0)
				return 0;
			/* as execvp: permission denied somewhere wins over
			 * not found */
			if (rc == -E_ACCES)
				err = rc;
			else if (rc != -E_NOENT && rc != -E_NOTDIR)
				return rc;
		}
		path += k;
		if (*path == ':')
			path++;
	}
	return err;
}

__attribute__((used)) void gate_main(long *sp);
__attribute__((used)) void gate_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
	long ts[2] = { 0, POLL_NS };
	char st[256]; /* struct stat: 144 bytes on x86-64 */
	long rc;

	if (argc < 4 || !is(argv[2], "--")) {
		say("usage: orchestrate-gate GOFILE -- PROGRAM [ARG...]\n");
		leave(125);
	}
	/* as PID 1 an unhandled signal is ignored: whatever stop signal the
	 * image names (SIGTERM, SIGQUIT for nginx, SIGWINCH for httpd, ...)
	 * ends a held gate at once */
	for (int sig = 1; sig <= NSIG_STD; sig++)
		if (sig != SIG_KILL && sig != SIG_STOP && sig != SIG_CHLD &&
		    sig != SIG_CONT)
			handle(sig);

	/* a program that cannot run fails now, as Docker's start would,
	 * not after the release */
	rc = run(argv + 3, envp, 1);
	while (rc == 0 && sys(SYS_stat, (long)argv[1], (long)st, 0, 0) != 0)
		sys(SYS_nanosleep, (long)ts, 0, 0, 0);

	/* exec resets caught signals to their defaults */
	if (rc == 0)
		rc = run(argv + 3, envp, 0);
	say("orchestrate-gate: exec ");
	say(argv[3]);
	say(rc == -E_NOENT    ? ": No such file or directory\n"
	    : rc == -E_ACCES  ? ": Permission denied\n"
	    : rc == -E_NOTDIR ? ": Not a directory\n"
	                      : ": cannot execute\n");
	/* the shell's and Docker's codes: 127 not found, 126 not runnable */
	leave(rc == -E_NOENT || rc == -E_NOTDIR ? 127 : 126);
}

/* The kernel's entry: the stack holds argc, argv, NULL, envp, NULL. */
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	xor %rbp, %rbp\n"
        "	mov %rsp, %rdi\n"
        "	and $-16, %rsp\n"
        "	call gate_main\n"
        "	hlt\n");
