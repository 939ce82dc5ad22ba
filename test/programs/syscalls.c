/*
 * syscalls: calls every wasi_snapshot_preview1 function directly, mostly
 * with arguments that must fail, and prints "name: errno" for each. Linking
 * it needs all of them, with the signatures wasi-libc's <wasi/api.h>
 * declares. Run with no mounts and an empty stdin.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

/* proc_raise left <wasi/api.h> before this wasi-libc; declare the import by hand. */
int32_t raw_proc_raise(int32_t sig) __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("proc_raise")));

/* Addresses past the end of any memory this program has. */
#define BAD ((void *)0xfffffff0u)
#define BAD_PTR(T) ((T *)0xfffffff0u)

#define SHOW(name, call) printf("%s: %d\n", name, (int)(call))

int main(void) {
    __wasi_size_t a, b;
    __wasi_timestamp_t t;
    __wasi_fdstat_t fdstat;
    __wasi_filestat_t filestat;
    __wasi_prestat_t prestat;
    __wasi_filesize_t pos;
    __wasi_fd_t newfd;
    uint8_t buf[64];
    __wasi_iovec_t iov = {buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"", 0};
    __wasi_ciovec_t bad_ciov = {BAD, 64};

    SHOW("args_sizes_get", __wasi_args_sizes_get(&a, &b));
    SHOW("args_sizes_get(bad)", __wasi_args_sizes_get(BAD, &b));
    SHOW("args_get(bad)", __wasi_args_get(BAD, BAD));
    SHOW("environ_sizes_get", __wasi_environ_sizes_get(&a, &b));
    SHOW("environ_get(bad)", __wasi_environ_get(BAD, BAD));

    SHOW("clock_res_get(monotonic)", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &t));
    SHOW("clock_res_get(99)", __wasi_clock_res_get(99, &t));
    SHOW("clock_time_get(realtime)", __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t));
    SHOW("clock_time_get(99)", __wasi_clock_time_get(99, 1, &t));
    SHOW("clock_time_get(bad)", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, BAD));

    SHOW("fd_fdstat_get(stdout)", __wasi_fd_fdstat_get(1, &fdstat));
    printf("stdout filetype %d, can seek %d, can tell %d, can write %d\n", fdstat.fs_filetype,
           (fdstat.fs_rights_base & __WASI_RIGHTS_FD_SEEK) != 0, (fdstat.fs_rights_base & __WASI_RIGHTS_FD_TELL) != 0,
           (fdstat.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
    SHOW("fd_fdstat_get(99)", __wasi_fd_fdstat_get(99, &fdstat));
    SHOW("fd_fdstat_get(bad)", __wasi_fd_fdstat_get(1, BAD));
    SHOW("fd_fdstat_set_flags(stdout, nonblock)", __wasi_fd_fdstat_set_flags(1, __WASI_FDFLAGS_NONBLOCK));
    SHOW("fd_fdstat_set_flags(stdout, 0x100)", __wasi_fd_fdstat_set_flags(1, 0x100));
    SHOW("fd_fdstat_set_rights(stdout, more)", __wasi_fd_fdstat_set_rights(1, ~(__wasi_rights_t)0, 0));
    SHOW("fd_filestat_get(stdout)", __wasi_fd_filestat_get(1, &filestat));
    printf("stdout filestat filetype %d\n", filestat.filetype);
    SHOW("fd_filestat_get(bad)", __wasi_fd_filestat_get(1, BAD));
    SHOW("fd_filestat_set_size(stdout)", __wasi_fd_filestat_set_size(1, 0));
    SHOW("fd_filestat_set_times(stdout)", __wasi_fd_filestat_set_times(1, 0, 0, __WASI_FSTFLAGS_ATIM_NOW));
    SHOW("fd_advise(stdout)", __wasi_fd_advise(1, 0, 0, __WASI_ADVICE_NORMAL));
    SHOW("fd_allocate(stdout)", __wasi_fd_allocate(1, 0, 1));
    SHOW("fd_datasync(stdout)", __wasi_fd_datasync(1));
    SHOW("fd_sync(stdout)", __wasi_fd_sync(1));

    SHOW("fd_write(stdout, empty)", __wasi_fd_write(1, &ciov, 1, &a));
    SHOW("fd_write(stdout, bad iovec array)", __wasi_fd_write(1, BAD, 1, &a));
    SHOW("fd_write(stdout, bad buffer)", __wasi_fd_write(1, &bad_ciov, 1, &a));
    SHOW("fd_write(stdout, bad count out)", __wasi_fd_write(1, &ciov, 1, BAD));
    SHOW("fd_write(stdout, 100000 iovecs)", __wasi_fd_write(1, &ciov, 100000, &a));
    SHOW("fd_write(stdin)", __wasi_fd_write(0, &ciov, 1, &a));
    SHOW("fd_write(99)", __wasi_fd_write(99, &ciov, 1, &a));
    SHOW("fd_read(stdin)", __wasi_fd_read(0, &iov, 1, &a));
    printf("read %u bytes at the end of stdin\n", (unsigned)a);
    SHOW("fd_read(stdout)", __wasi_fd_read(1, &iov, 1, &a));
    SHOW("fd_pread(stdin)", __wasi_fd_pread(0, &iov, 1, 0, &a));
    SHOW("fd_pwrite(stdout)", __wasi_fd_pwrite(1, &ciov, 1, 0, &a));
    SHOW("fd_seek(stdout)", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos));
    SHOW("fd_tell(stdout)", __wasi_fd_tell(1, &pos));
    SHOW("fd_readdir(stdout)", __wasi_fd_readdir(1, buf, sizeof buf, 0, &a));
    SHOW("fd_prestat_get(3)", __wasi_fd_prestat_get(3, &prestat));
    SHOW("fd_prestat_dir_name(0)", __wasi_fd_prestat_dir_name(0, buf, sizeof buf));
    SHOW("fd_renumber(99, 1)", __wasi_fd_renumber(99, 1));
    SHOW("fd_close(99)", __wasi_fd_close(99));

    SHOW("path_open(stdout)", __wasi_path_open(1, 0, "x", 0, 0, 0, 0, &newfd));
    SHOW("path_open(99)", __wasi_path_open(99, 0, "x", 0, 0, 0, 0, &newfd));
    SHOW("path_create_directory(stdout)", __wasi_path_create_directory(1, "x"));
    SHOW("path_filestat_get(stdout)", __wasi_path_filestat_get(1, 0, "x", &filestat));
    SHOW("path_filestat_set_times(stdout)", __wasi_path_filestat_set_times(1, 0, "x", 0, 0, 0));
    SHOW("path_link(stdout)", __wasi_path_link(1, 0, "x", 1, "y"));
    SHOW("path_readlink(stdout)", __wasi_path_readlink(1, "x", buf, sizeof buf, &a));
    SHOW("path_remove_directory(stdout)", __wasi_path_remove_directory(1, "x"));
    SHOW("path_rename(stdout)", __wasi_path_rename(1, "x", 1, "y"));
    SHOW("path_symlink(stdout)", __wasi_path_symlink("x", 1, "y"));
    SHOW("path_unlink_file(stdout)", __wasi_path_unlink_file(1, "x"));

    __wasi_subscription_t subs[2];
    __wasi_event_t events[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 7;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 1000000;
    subs[1].userdata = 8;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[1].u.u.fd_write.file_descriptor = 1;
    SHOW("poll_oneoff(clock)", __wasi_poll_oneoff(subs, events, 1, &a));
    printf("events %u: userdata %llu error %d type %d\n", (unsigned)a, (unsigned long long)events[0].userdata, events[0].error, events[0].type);
    SHOW("poll_oneoff(clock, stdout)", __wasi_poll_oneoff(subs, events, 2, &a));
    printf("events %u: userdata %llu type %d\n", (unsigned)a, (unsigned long long)events[0].userdata, events[0].type);
    subs[1].u.u.fd_write.file_descriptor = 99;
    SHOW("poll_oneoff(clock, fd 99)", __wasi_poll_oneoff(subs, events, 2, &a));
    printf("events %u: userdata %llu error %d\n", (unsigned)a, (unsigned long long)events[0].userdata, events[0].error);
    SHOW("poll_oneoff(none)", __wasi_poll_oneoff(subs, events, 0, &a));
    SHOW("poll_oneoff(bad)", __wasi_poll_oneoff(BAD, events, 1, &a));

    SHOW("random_get", __wasi_random_get(buf, 16));
    SHOW("random_get(bad)", __wasi_random_get(BAD, 64));
    SHOW("sched_yield", __wasi_sched_yield());
    SHOW("proc_raise", raw_proc_raise(6));
    SHOW("sock_accept(stdout)", __wasi_sock_accept(1, 0, &newfd));
    SHOW("sock_accept(99)", __wasi_sock_accept(99, 0, &newfd));
    __wasi_roflags_t roflags;
    SHOW("sock_recv(stdout)", __wasi_sock_recv(1, &iov, 1, 0, &a, &roflags));
    SHOW("sock_send(stdout)", __wasi_sock_send(1, &ciov, 1, 0, &a));
    SHOW("sock_shutdown(stdout)", __wasi_sock_shutdown(1, __WASI_SDFLAGS_RD));

    SHOW("fd_fdstat_set_rights(stdin, none)", __wasi_fd_fdstat_set_rights(0, 0, 0));
    SHOW("fd_read(stdin) without rights", __wasi_fd_read(0, &iov, 1, &a));
    SHOW("fd_renumber(2, 0)", __wasi_fd_renumber(2, 0));
    SHOW("fd_write(2) after renumbering", __wasi_fd_write(2, &ciov, 1, &a));
    SHOW("fd_close(0)", __wasi_fd_close(0));
    SHOW("fd_close(0) again", __wasi_fd_close(0));
    fflush(stdout);
    __wasi_proc_exit(17);
}
