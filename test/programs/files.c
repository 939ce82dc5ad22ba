/*
 * files: file system work inside a mounted directory, then attempts to get
 * out of it, each printed with its outcome.
 *
 *   files MOUNT [LINK...]
 *
 * MOUNT is the guest path of the mount (e.g. /sandbox). Each LINK is the
 * name of a symbolic link the host placed in the mount pointing outside it;
 * reading through it must fail. The program leaves MOUNT/result.txt behind
 * and removes everything else it made.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root;

/* MOUNT/rel, in one of two rotating buffers (so two paths can be used at once). */
static const char *at(const char *rel) {
    static char bufs[2][512];
    static int k;
    char *b = bufs[k ^= 1];
    snprintf(b, sizeof bufs[0], "%s/%s", root, rel);
    return b;
}

static int failures;

/* Prints the outcome of a step that should succeed. */
static void step(const char *what, int ok) {
    if (ok) {
        printf("%s: ok\n", what);
    } else {
        printf("%s: FAILED: %s\n", what, strerror(errno));
        failures++;
    }
}

/* Prints the outcome of an attempt that must fail. */
static void refused(const char *what, int ok) {
    if (ok) {
        printf("%s: ALLOWED (should have failed)\n", what);
        failures++;
    } else {
        printf("%s: refused: %s\n", what, strerror(errno));
    }
}

static void print_file(const char *rel) {
    FILE *f = fopen(at(rel), "r");
    if (!f) { step(rel, 0); return; }
    char line[256];
    printf("--- %s\n", rel);
    while (fgets(line, sizeof line, f)) printf("| %s", line);
    printf("%s--- end\n", line[strlen(line) - 1] == '\n' ? "" : "\n");
    fclose(f);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *rel) {
    DIR *d = opendir(at(rel));
    if (!d) { step("opendir", 0); return; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *s = malloc(strlen(e->d_name) + 8);
        sprintf(s, "%s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    printf("ls %s:", rel);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: files MOUNT [LINK...]\n"); return 2; }
    root = argv[1];

    step("mkdir work", mkdir(at("work"), 0755) == 0);
    step("mkdir work/sub", mkdir(at("work/sub"), 0755) == 0);
    refused("mkdir work again", mkdir(at("work"), 0755) == 0);

    FILE *f = fopen(at("work/notes.txt"), "w");
    step("create work/notes.txt", f != NULL);
    if (f == NULL) {
        printf("files: cannot go on without a writable directory, %d failures\n", failures);
        return 1;
    }
    for (int i = 1; i <= 5; i++) fprintf(f, "line %d of the notes\n", i);
    step("close", fclose(f) == 0);
    print_file("work/notes.txt");

    f = fopen(at("work/notes.txt"), "r+");
    step("fseek to 5", fseek(f, 5, SEEK_SET) == 0);
    fputs("ONE", f);
    fseek(f, 0, SEEK_END);
    printf("size by ftell: %ld\n", ftell(f));
    rewind(f);
    char line[64];
    printf("first line after overwrite: %s", fgets(line, sizeof line, f));
    fclose(f);

    int fd = open(at("work/notes.txt"), O_WRONLY | O_APPEND);
    step("open for append", fd >= 0);
    step("append", write(fd, "appended\n", 9) == 9);
    close(fd);
    struct stat st;
    step("stat", stat(at("work/notes.txt"), &st) == 0);
    printf("size by stat: %lld, regular file: %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

    fd = open(at("work/notes.txt"), O_RDWR);
    step("pwrite at 0", pwrite(fd, "LI", 2, 0) == 2);
    char buf[32] = {0};
    step("pread 8 bytes at 21", pread(fd, buf, 8, 21) == 8);
    printf("pread gave \"%s\", offset still %lld\n", buf, (long long)lseek(fd, 0, SEEK_CUR));
    printf("lseek(-9, SEEK_END) = %lld\n", (long long)lseek(fd, -9, SEEK_END));
    memset(buf, 0, sizeof buf);
    step("read 8 from there", read(fd, buf, 8) == 8);
    printf("read gave \"%s\"\n", buf);
    refused("lseek before the start", lseek(fd, -1000, SEEK_SET) >= 0);
    step("ftruncate to 20", ftruncate(fd, 20) == 0);
    step("fstat", fstat(fd, &st) == 0);
    printf("size after truncate: %lld\n", (long long)st.st_size);
    close(fd);
    print_file("work/notes.txt");

    const char *names[] = {"work/sub/c.txt", "work/sub/a.txt", "work/sub/b.txt"};
    for (int i = 0; i < 3; i++) {
        fd = open(at(names[i]), O_CREAT | O_EXCL | O_WRONLY, 0644);
        step(names[i], fd >= 0 && write(fd, names[i], strlen(names[i])) > 0);
        close(fd);
    }
    refused("O_EXCL on an existing file", open(at("work/sub/a.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0);
    refused("open a missing file", open(at("work/nothing.txt"), O_RDONLY) >= 0);
    refused("open a file as a directory", open(at("work/notes.txt"), O_RDONLY | O_DIRECTORY) >= 0);
    list_dir("work");
    list_dir("work/sub");

    step("rename notes.txt to sub/renamed.txt", rename(at("work/notes.txt"), at("work/sub/renamed.txt")) == 0);
    refused("access the old name", access(at("work/notes.txt"), F_OK) == 0);
    step("stat the new name", stat(at("work/sub/renamed.txt"), &st) == 0 && st.st_size == 20);
    list_dir("work/sub");
    refused("rmdir a non-empty directory", rmdir(at("work/sub")) == 0);

    /* Attempts to get out of the mount. */
    refused("open ../outside.txt", fopen(at("../outside.txt"), "r") != NULL);
    refused("create work/../../escaped.txt", fopen(at("work/../../escaped.txt"), "w") != NULL);
    refused("open /etc/passwd", fopen("/etc/passwd", "r") != NULL);
    refused("mkdir ../escaped-dir", mkdir(at("../escaped-dir"), 0755) == 0);
    refused("symlink to ../../outside.txt", symlink("../../outside.txt", at("work/link")) == 0);
    refused("symlink to /etc/passwd", symlink("/etc/passwd", at("work/abs-link")) == 0);
    refused("rename out of the mount", rename(at("work/sub/a.txt"), at("../stolen.txt")) == 0);
    refused("stat ..", stat(at(".."), &st) == 0);
    for (int i = 2; i < argc; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/secret.txt", argv[i]);
        printf("[host link %s] ", argv[i]);
        refused("read through it", fopen(at(rel), "r") != NULL);
        printf("[host link %s] ", argv[i]);
        refused("open it", open(at(argv[i]), O_RDONLY) >= 0);
    }

    step("symlink inside the mount", symlink("sub/renamed.txt", at("work/inner-link")) == 0);
    step("read through it", (f = fopen(at("work/inner-link"), "r")) != NULL && fgets(line, sizeof line, f) != NULL);
    if (f) fclose(f);
    printf("through the link: %s", line);
    char target[64] = {0};
    step("readlink", readlink(at("work/inner-link"), target, sizeof target - 1) > 0);
    printf("link target: %s\n", target);

    const char *cleanup[] = {"work/inner-link", "work/sub/a.txt", "work/sub/b.txt", "work/sub/c.txt", "work/sub/renamed.txt"};
    for (int i = 0; i < 5; i++) step(cleanup[i], unlink(at(cleanup[i])) == 0);
    step("rmdir work/sub", rmdir(at("work/sub")) == 0);
    step("rmdir work", rmdir(at("work")) == 0);
    f = fopen(at("result.txt"), "w");
    step("write result.txt", f != NULL && fputs("written by files.c\n", f) >= 0 && fclose(f) == 0);
    list_dir(".");
    printf("files: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
