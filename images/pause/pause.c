/*
 * The sandbox ("pause") container of the real node's pods: it holds the pod's namespaces open.
 * Built here as a static binary because no container registry is reachable to pull
 * registry.k8s.io/pause. As PID 1 of the sandbox it must reap orphaned children and end
 * cleanly when containerd stops the sandbox.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int signal_number) {
    (void)signal_number;
    _exit(0);
}

static void on_child(int signal_number) {
    (void)signal_number;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        puts("aim-engine pause 1");
        return 0;
    }
    struct sigaction stop = {0}, child = {0};
    stop.sa_handler = on_stop;
    child.sa_handler = on_child;
    child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    if (sigaction(SIGTERM, &stop, NULL) != 0 || sigaction(SIGINT, &stop, NULL) != 0 ||
        sigaction(SIGCHLD, &child, NULL) != 0) {
        perror("sigaction");
        return 1;
    }
    for (;;) {
        pause();
    }
}
