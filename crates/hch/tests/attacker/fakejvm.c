/*
 * A hostile "JVM" for hch's attacker tests: a static program that maps a file named
 * libjvm.so, catches SIGQUIT and answers the attach protocol (version 1) the way a JDK 17
 * does, but plays tricks with the files hch reads back. Built by the tests with
 * `gcc -static -DMARKER=\"...\"` and run in a chroot as an unprivileged uid.
 *
 *   java MODE [ARG]
 *     normal          answer, and on JFR.stop copy /rec.jfr into the recording file
 *     fifo            on JFR.stop, swap the recording for a FIFO
 *     device          on JFR.stop, swap it for the character device ARG (made by the test)
 *     sparse          on JFR.stop, make it a 512 MiB sparse file
 *     symlink         on JFR.stop, swap it for a symlink to ARG
 *     socket-symlink  on SIGQUIT, make /tmp/.java_pid<pid> a symlink to ARG (no listener)
 *
 * Run with any argument starting with `-` (as `java -XX:... -version` would be), it writes
 * MARKER and exits: if the marker ever exists, hch executed the target's binary.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MARKER
#define MARKER "/tmp/hch-fakejvm-was-executed"
#endif

static volatile sig_atomic_t quit_seen;
static const char *mode = "normal";
static const char *mode_arg = "";
static char recording[4096];
static int directives;

static void on_quit(int sig) { (void)sig; quit_seen = 1; }

static void say(int fd, const char *text) {
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0) return;
        text += n;
        len -= (size_t)n;
    }
}

static void copy_file(const char *from, const char *to) {
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_TRUNC);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) break;
    }
    if (in >= 0) close(in);
    if (out >= 0) close(out);
}

/* The trick of this mode, played on the recording once JFR.stop arrives. */
static void swap_recording(void) {
    if (!recording[0]) return;
    if (strcmp(mode, "normal") == 0) {
        copy_file("/rec.jfr", recording);
    } else if (strcmp(mode, "fifo") == 0) {
        unlink(recording);
        mkfifo(recording, 0600);
    } else if (strcmp(mode, "device") == 0) {
        rename(mode_arg, recording);
    } else if (strcmp(mode, "sparse") == 0) {
        truncate(recording, 512LL << 20);
    } else if (strcmp(mode, "symlink") == 0) {
        unlink(recording);
        symlink(mode_arg, recording);
    }
}

static const char *FLAGS =
    "[Global flags]\n"
    "     bool DebugNonSafepoints                       = true                                      {diagnostic} {command line}\n"
    "    uintx ReservedCodeCacheSize                    = 251658240                                 {pd product} {ergonomic}\n"
    "     bool SegmentedCodeCache                       = true                                      {product} {ergonomic}\n";

/* One request: the reply text (after the result code) for a jcmd line. */
static void answer(int fd, const char *line) {
    char out[8192];
    if (strncmp(line, "VM.version", 10) == 0) {
        say(fd, "0\nOpenJDK 64-Bit Server VM version 17.0.15+6-Debian-1deb12u1\nJDK 17.0.15\n");
    } else if (strncmp(line, "VM.flags", 8) == 0) {
        say(fd, "0\n");
        say(fd, FLAGS);
    } else if (strncmp(line, "VM.system_properties", 20) == 0) {
        say(fd, "0\n#x\njava.version=17.0.15\njava.vm.vendor=Debian\n");
    } else if (strncmp(line, "help", 4) == 0) {
        say(fd, "0\nThe following commands are available:\nJFR.start\nJFR.stop\nVM.version\n");
    } else if (strncmp(line, "JFR.start", 9) == 0) {
        const char *f = strstr(line, "filename=");
        if (f) {
            snprintf(recording, sizeof recording, "%s", f + 9);
            recording[strcspn(recording, " ")] = 0;
        }
        say(fd, "0\nStarted recording 1. The result will be written to:\n\n");
    } else if (strncmp(line, "JFR.stop", 8) == 0) {
        swap_recording();
        say(fd, "0\nStopped recording 1.\n");
    } else if (strncmp(line, "Compiler.directives_add", 23) == 0) {
        directives++;
        say(fd, "0\n1 compiler directives added\n");
    } else if (strncmp(line, "Compiler.directives_clear", 25) == 0) {
        directives = 0;
        say(fd, "0\n");
    } else if (strncmp(line, "Compiler.directives_print", 25) == 0) {
        say(fd, "0\n");
        for (int i = 0; i < directives; i++) say(fd, "Directive:\n matching: *.*\n");
        say(fd, "Directive: (default)\n matching: *.*\n");
    } else {
        snprintf(out, sizeof out, "0\n");
        say(fd, out);
    }
}

/* Reads a protocol 1 request (`1\0jcmd\0line\0\0\0`) and answers it. */
static void serve(int client) {
    char req[8192];
    size_t len = 0;
    int nuls = 0;
    while (len < sizeof req - 1 && nuls < 5) {
        ssize_t n = read(client, req + len, 1);
        if (n <= 0) break;
        if (req[len] == 0) nuls++;
        len++;
    }
    req[len] = 0;
    const char *cmd = req + strlen(req) + 1;
    const char *arg = cmd + strlen(cmd) + 1;
    if (strcmp(cmd, "jcmd") == 0) {
        answer(client, arg);
    } else {
        say(client, "0\n");
    }
    close(client);
}

static int listen_on(const char *path) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) return -1;
    chmod(path, 0600);
    return s;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            int fd = open(MARKER, O_WRONLY | O_CREAT, 0644);
            if (fd >= 0) { say(fd, "executed\n"); close(fd); }
            return 0;
        }
    }
    if (argc > 1) mode = argv[1];
    if (argc > 2) mode_arg = argv[2];
    int lib = open("/lib/server/libjvm.so", O_RDONLY);
    if (lib < 0 || mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, lib, 0) == MAP_FAILED) {
        perror("libjvm.so");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_quit};
    sigaction(SIGQUIT, &sa, NULL);
    printf("READY %d\n", getpid());
    fflush(stdout);
    char sock[256], trigger[256];
    snprintf(sock, sizeof sock, "/tmp/.java_pid%d", getpid());
    snprintf(trigger, sizeof trigger, "/tmp/.attach_pid%d", getpid());
    while (!quit_seen) usleep(5000);
    if (strcmp(mode, "socket-symlink") == 0) {
        symlink(mode_arg, sock);
        for (;;) pause();
    }
    int s = listen_on(sock);
    if (s < 0) { perror("listen"); return 1; }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c >= 0) serve(c);
    }
}
