/* native board: the firmware as a host program. Its serial port is the slave side
 * of a pseudo-terminal whose path is printed on stdout at start:
 *     vigil-native: serial on /dev/pts/N
 * Reset restarts the app in-process (same pty, new boot id). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "board.h"

/* The app runs on a thread whose stack we own and paint, so STATS can report the
 * same stack high-water mark as on the microcontroller ports. */
#define NATIVE_STACK_SIZE (256u * 1024u)
#define NATIVE_STACK_PAINT 0xA5u
#define NATIVE_IDLE_POLL_MS 1


typedef struct native_board {
    int master;
    int slave_keepalive; /* keeps the pty open so reads don't fail while the host is away */
    struct timespec boot_time;
    uint32_t boot_id;
    uint32_t boot_count;
    jmp_buf restart;
    _Alignas(16) uint8_t stack[NATIVE_STACK_SIZE];
} native_board_t;

static native_board_t board;

static void die(const char *what)
{
    fprintf(stderr, "vigil-native: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void open_pty(void)
{
    board.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (board.master < 0 || grantpt(board.master) || unlockpt(board.master)) {
        die("cannot create a pseudo-terminal");
    }
    const char *path = ptsname(board.master);
    board.slave_keepalive = open(path, O_RDWR | O_NOCTTY);
    if (board.slave_keepalive < 0) {
        die("cannot open the pseudo-terminal");
    }
    struct termios tio;
    tcgetattr(board.slave_keepalive, &tio);
    cfmakeraw(&tio);
    tcsetattr(board.slave_keepalive, TCSANOW, &tio);
    fcntl(board.master, F_SETFL, fcntl(board.master, F_GETFL) | O_NONBLOCK);
    printf("vigil-native: serial on %s\n", path);
    fflush(stdout);
}

void board_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &board.boot_time);
    board.boot_count++;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    /* Differs per process and per in-process reset. */
    uint32_t seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now.tv_nsec ^ (board.boot_count << 24);
    board.boot_id = seed ? seed : 1u;
}

const char *board_name(void)
{
    return "native";
}

size_t board_serial_read(uint8_t *buf, size_t max)
{
    ssize_t n = read(board.master, buf, max);
    return n > 0 ? (size_t)n : 0;
}

void board_serial_write(const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(board.master, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            die("serial write");
        } else {
            struct pollfd pfd = {.fd = board.master, .events = POLLOUT};
            poll(&pfd, 1, NATIVE_IDLE_POLL_MS);
        }
    }
}

uint64_t board_ticks(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - board.boot_time.tv_sec) * 1000000000u + (uint64_t)now.tv_nsec -
           (uint64_t)board.boot_time.tv_nsec;
}

uint32_t board_ticks_per_second(void)
{
    return 1000000000u;
}

uint32_t board_millis(void)
{
    return (uint32_t)(board_ticks() / 1000000u);
}

uint32_t board_boot_id(void)
{
    return board.boot_id;
}

size_t board_stack_high_water(void)
{
    size_t untouched = 0;
    while (untouched < NATIVE_STACK_SIZE && board.stack[untouched] == NATIVE_STACK_PAINT) {
        untouched++;
    }
    return NATIVE_STACK_SIZE - untouched;
}

bool board_sensor_sources(uint16_t ppg_rate_hz, const accel_source_t **accel, const ppg_source_t **ppg)
{
    (void)ppg_rate_hz; /* no sensors here: live mode runs on the seeded wrist */
    (void)accel;
    (void)ppg;
    return false;
}

size_t board_stack_size(void)
{
    return NATIVE_STACK_SIZE;
}

void board_idle(void)
{
    struct pollfd pfd = {.fd = board.master, .events = POLLIN};
    poll(&pfd, 1, NATIVE_IDLE_POLL_MS);
}

void board_reset(void)
{
    longjmp(board.restart, 1);
}

static void *app_thread(void *arg)
{
    (void)arg;
    setjmp(board.restart);
    return (void *)(intptr_t)app_main();
}

int main(void)
{
    open_pty();
    memset(board.stack, NATIVE_STACK_PAINT, sizeof board.stack);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, board.stack, sizeof board.stack);
    pthread_t thread;
    if (pthread_create(&thread, &attr, app_thread, NULL)) {
        die("cannot start the app thread");
    }
    void *rc;
    pthread_join(thread, &rc);
    return (int)(intptr_t)rc;
}
