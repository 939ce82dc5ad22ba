/*
 * stdin: reads all of standard input, then prints its size, line and word
 * counts, the byte histogram's extremes and a checksum.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    static unsigned char buf[3000];
    uint64_t bytes = 0, lines = 0, words = 0, hash = 0xcbf29ce484222325ULL;
    uint64_t histogram[256] = {0};
    int in_word = 0;
    size_t n;
    /* An odd buffer size, so reads do not line up with anything. */
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = buf[i];
            hash = (hash ^ c) * 0x100000001b3ULL;
            histogram[c]++;
            lines += c == '\n';
            if (isspace(c)) in_word = 0;
            else if (!in_word) { in_word = 1; words++; }
        }
        bytes += n;
    }
    int most = 0;
    for (int c = 1; c < 256; c++) if (histogram[c] > histogram[most]) most = c;
    printf("bytes=%llu lines=%llu words=%llu\n", (unsigned long long)bytes, (unsigned long long)lines, (unsigned long long)words);
    printf("most frequent byte 0x%02x (%llu times), fnv1a %016llx\n", most, (unsigned long long)histogram[most], (unsigned long long)hash);
    printf("eof=%d error=%d\n", feof(stdin) != 0, ferror(stdin) != 0);
    return bytes == 0 ? 3 : 0;
}
