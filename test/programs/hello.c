/*
 * hello: arguments, environment, stdout and stderr, and an exit code taken
 * from the command line ("hello ... 7" exits with 7).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("hello from wasm32-wasi\n");
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=\"%s\" (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    }
    int n = 0;
    for (char **e = environ; *e != NULL; e++) printf("environ[%d]=%s\n", n++, *e);
    printf("environ has %d entries\n", n);
    const char *greeting = getenv("GREETING");
    printf("GREETING is %s\n", greeting ? greeting : "(unset)");
    printf("NOT_SET is %s\n", getenv("NOT_SET") ? "set" : "(unset)");
    fprintf(stderr, "hello: a line for stderr\n");
    int code = argc > 1 ? atoi(argv[argc - 1]) : 0;
    printf("exiting with %d\n", code);
    return code;
}
