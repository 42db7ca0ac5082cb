/* tar.c: placeholder until the tar writer lands. */
