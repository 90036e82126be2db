/* vigil firmware: announces itself, then serves the host over the framed serial link. */
#include <string.h>

#include "accel_task.h"
#include "board.h"
#include "link.h"
#include "live_task.h"
#include "models.h"
#include "nn_task.h"
#include "ppg_task.h"
#include "protocol/crc32.h"
#include "sample_queue.h"
#include "stage_cost.h"

#ifndef VIGIL_FW_VERSION
#define VIGIL_FW_VERSION "0.0.0"
#endif
#ifndef VIGIL_BUILD_ID
#define VIGIL_BUILD_ID "unknown"
#endif

/* int16 values one SAMPLES frame can carry. */
#define APP_SAMPLE_VALUES_MAX ((VIGIL_FRAME_MAX_PAYLOAD - VIGIL_SAMPLE_HEADER_SIZE) / 2u)
#define APP_DEFAULT_PPG_RATE_HZ VIGIL_PPG_RATE_HZ

typedef struct app {
    link_t link;
    accel_task_t accel;
    ppg_task_t ppg;
    nn_task_t nn;
    models_t models;
    stage_costs_t costs;
    uint8_t config_flags;
    int16_t values[APP_SAMPLE_VALUES_MAX];
    sample_queue_t samples;
    live_task_t live;
    uint32_t next_index[VIGIL_SAMPLE_CHANNELS];
    bool index_known[VIGIL_SAMPLE_CHANNELS];
    bool hold_samples; /* host asked to pause consumption (to test flow control) */
    uint8_t reply[VIGIL_FRAME_MAX_PAYLOAD];
} app_t;

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    if (n > VIGIL_STRING_MAX) {
        n = VIGIL_STRING_MAX;
    }
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

static void send_hello(app_t *app)
{
    uint8_t *p = app->reply;
    size_t n = 0;
    p[n++] = VIGIL_PROTOCOL_VERSION;
    put_u32(p + n, board_boot_id());
    n += 4;
    n += put_str(p + n, board_name());
    n += put_str(p + n, VIGIL_FW_VERSION);
    n += put_str(p + n, VIGIL_BUILD_ID);
    put_u16(p + n, VIGIL_ACCEL_RATE_HZ);
    put_u16(p + n + 2, VIGIL_PPG_RATE_HZ);
    put_u16(p + n + 4, VIGIL_FRAME_MAX_PAYLOAD);
    put_u16(p + n + 6, VIGIL_SAMPLE_SLOTS);
    put_u32(p + n + 8, board_ticks_per_second());
    n += 12;
    /* the engine-check model (a -DVIGIL_ENGINE_MODEL build) or the models of models/firmware, never both */
    p[n++] = (uint8_t)(nn_task_models() + models_count());
    for (size_t m = 0; m < nn_task_models(); m++) {
        n += put_str(p + n, nn_task_model_name(m));
        memcpy(p + n, nn_task_model_hash(m), VIGIL_MODEL_HASH_SIZE);
        n += VIGIL_MODEL_HASH_SIZE;
    }
    for (size_t m = 0; m < models_count(); m++) {
        n += put_str(p + n, models_name(m));
        memcpy(p + n, models_hash(m), VIGIL_MODEL_HASH_SIZE);
        n += VIGIL_MODEL_HASH_SIZE;
    }
    link_send(&app->link, VIGIL_MSG_HELLO, p, (uint16_t)n);
}

static void send_stats(app_t *app)
{
    uint32_t *s = app->link.stats;
    s[VIGIL_STAT_SAMPLE_QUEUE_HIGH_WATER] = app->samples.high_water;
    s[VIGIL_STAT_SAMPLE_QUEUE_SLOTS] = VIGIL_SAMPLE_SLOTS;
    s[VIGIL_STAT_STACK_HIGH_WATER] = (uint32_t)board_stack_high_water();
    s[VIGIL_STAT_STACK_SIZE] = (uint32_t)board_stack_size();
    s[VIGIL_STAT_UPTIME_MS] = board_millis();
    live_totals_t live = live_task_totals(&app->live);
    s[VIGIL_STAT_LIVE_SAMPLES] = live.samples;
    s[VIGIL_STAT_LIVE_DROPPED] = live.dropped;
    s[VIGIL_STAT_LIVE_OVERRUNS] = live.overruns;
    for (size_t i = 0; i < VIGIL_STAT_COUNT; i++) {
        put_u32(app->reply + 4 * i, s[i]);
    }
    link_send(&app->link, VIGIL_MSG_STATS, app->reply, (uint16_t)(4 * VIGIL_STAT_COUNT));
}

static void send_error(app_t *app, vigil_error_code_t code, const frame_t *frame)
{
    uint8_t p[4];
    p[0] = (uint8_t)code;
    p[1] = frame->type;
    put_u16(p + 2, frame->seq);
    link_send(&app->link, VIGIL_MSG_ERROR, p, sizeof p);
}

static void accept_samples(app_t *app, const frame_t *frame)
{
    uint32_t *s = app->link.stats;
    if (app->live.on) { /* the device feeds itself: a host's samples would interleave with its own */
        s[VIGIL_STAT_BAD_PAYLOADS]++;
        send_error(app, VIGIL_ERR_LIVE, frame);
        return;
    }
    if (frame->len < VIGIL_SAMPLE_HEADER_SIZE || (frame->len - VIGIL_SAMPLE_HEADER_SIZE) % 2u) {
        s[VIGIL_STAT_BAD_PAYLOADS]++;
        send_error(app, VIGIL_ERR_BAD_PAYLOAD, frame);
        return;
    }
    uint8_t channel = frame->payload[0];
    if (channel >= VIGIL_SAMPLE_CHANNELS) {
        s[VIGIL_STAT_BAD_PAYLOADS]++;
        send_error(app, VIGIL_ERR_BAD_CHANNEL, frame);
        return;
    }
    if (channel == VIGIL_CHANNEL_ACCEL && ((frame->len - VIGIL_SAMPLE_HEADER_SIZE) / 2u) % 3u) {
        s[VIGIL_STAT_BAD_PAYLOADS]++; /* accelerometer samples come as whole xyz triplets */
        send_error(app, VIGIL_ERR_BAD_PAYLOAD, frame);
        return;
    }
    if (!sample_queue_push(&app->samples, frame->payload, frame->len)) {
        s[VIGIL_STAT_SAMPLE_OVERFLOWS]++;
        send_error(app, VIGIL_ERR_NO_CREDIT, frame);
        return;
    }
    uint32_t values = (frame->len - VIGIL_SAMPLE_HEADER_SIZE) / 2u;
    uint32_t count = channel == VIGIL_CHANNEL_ACCEL ? values / 3u : values;
    uint32_t first = get_u32(frame->payload + 2);
    if (app->index_known[channel] && first != app->next_index[channel]) {
        s[VIGIL_STAT_SAMPLE_INDEX_GAPS]++;
    }
    app->index_known[channel] = true;
    app->next_index[channel] = first + count;
    s[VIGIL_STAT_SAMPLE_FRAMES_RX]++;
    s[VIGIL_STAT_SAMPLES_RX] += count;
}

/* Run one SAMPLES payload (from the host's queue or a live source) through the pipelines; its outputs go out as
 * they are computed. */
static void process_samples(app_t *app, const uint8_t *payload, uint16_t len)
{
    uint32_t *s = app->link.stats;
    s[VIGIL_STAT_SAMPLE_CRC] = crc32_update(s[VIGIL_STAT_SAMPLE_CRC], payload, 1);
    s[VIGIL_STAT_SAMPLE_CRC] = crc32_update(s[VIGIL_STAT_SAMPLE_CRC], payload + VIGIL_SAMPLE_HEADER_SIZE,
                                            len - VIGIL_SAMPLE_HEADER_SIZE);
    size_t n_values = (len - VIGIL_SAMPLE_HEADER_SIZE) / 2u;
    for (size_t i = 0; i < n_values; i++) {
        app->values[i] = (int16_t)get_u16(payload + VIGIL_SAMPLE_HEADER_SIZE + 2 * i);
    }
    bool trace = (app->config_flags & VIGIL_CONFIG_FLAG_TRACE) != 0;
    if (payload[0] == VIGIL_CHANNEL_ACCEL) {
        const size_t n_epochs =
            accel_task_process(&app->accel, app->values, n_values / 3u, trace, &app->link, &app->costs, &app->models);
        for (size_t e = 0; e < n_epochs; e++) {
            ppg_task_motion(&app->ppg, app->accel.new_levels[e]); /* the baseline keeps still minutes only */
        }
        for (size_t k = 0; k < app->accel.n_new_seconds; k++) {
            ppg_task_motion_second(&app->ppg, app->accel.new_second_levels[k]); /* the beats' motion reference */
        }
    } else if (payload[0] == VIGIL_CHANNEL_PPG) {
        ppg_task_process(&app->ppg, app->values, n_values, trace, &app->link, &app->costs, &app->models);
    }
}

/* Process one queued sample frame and hand its slot back to the host as credit.
 * Returns whether there was one. */
static bool consume_samples(app_t *app)
{
    const sample_slot_t *slot = sample_queue_peek(&app->samples);
    if (!slot || app->hold_samples) {
        return false;
    }
    process_samples(app, slot->payload, slot->len);
    sample_queue_pop(&app->samples);
    uint32_t *s = app->link.stats;
    s[VIGIL_STAT_SAMPLE_FRAMES_CONSUMED]++;
    uint8_t credit[6];
    put_u32(credit, s[VIGIL_STAT_SAMPLE_FRAMES_CONSUMED]);
    put_u16(credit + 4, VIGIL_SAMPLE_SLOTS);
    link_send(&app->link, VIGIL_MSG_CREDIT, credit, sizeof credit);
    return true;
}

/* A chunk of the device's own samples: tapped to the host first (its outputs follow it), then processed. */
static void run_live_chunk(app_t *app, uint16_t len)
{
    if (app->config_flags & VIGIL_CONFIG_FLAG_RAW_TAP) {
        link_send(&app->link, VIGIL_MSG_RAW_SAMPLES, app->live.payload, len);
    }
    process_samples(app, app->live.payload, len);
}

/* Live mode: one chunk if one is complete. Returns whether there was one. */
static bool run_live(app_t *app)
{
    uint16_t len = live_task_poll(&app->live, board_ticks(), board_ticks_per_second());
    if (len) {
        run_live_chunk(app, len);
    }
    return len != 0u;
}

/* The end of a live session: what the sources delivered into unfinished chunks is processed too. */
static void finish_live(app_t *app)
{
    uint16_t len;
    while ((len = live_task_flush(&app->live)) != 0u) {
        run_live_chunk(app, len);
    }
}

/* A new session of signal processing: every pipeline and sample index starts again. */
static bool configure(app_t *app, uint16_t ppg_rate_hz, uint8_t flags)
{
    if (!ppg_task_init(&app->ppg, ppg_rate_hz)) {
        return false;
    }
    accel_task_init(&app->accel);
    models_init(&app->models);
    memset(&app->costs, 0, sizeof app->costs);
    memset(app->index_known, 0, sizeof app->index_known);
    live_task_stop(&app->live);
    app->config_flags = flags;
    return true;
}

/* Live settings the device can take: known flags, the raw tap only with live mode, a speed the source has. */
static bool live_settings_ok(uint8_t flags, uint16_t speed)
{
    if (flags & ~VIGIL_CONFIG_FLAGS_ALL) {
        return false;
    }
    if ((flags & (VIGIL_CONFIG_FLAG_RAW_TAP | VIGIL_CONFIG_FLAG_SENSORS)) && !(flags & VIGIL_CONFIG_FLAG_LIVE)) {
        return false;
    }
    return speed >= 1u && speed <= VIGIL_LIVE_SPEED_MAX;
}

static void on_config(app_t *app, const frame_t *frame)
{
    uint16_t rate = get_u16(frame->payload);
    uint8_t flags = frame->payload[2];
    bool long_form = frame->len == VIGIL_CONFIG_LIVE_SIZE;
    uint32_t seed = long_form ? get_u32(frame->payload + 3) : 0u;
    uint16_t speed = long_form ? get_u16(frame->payload + 7) : 1u;
    const bool settings_ok = live_settings_ok(flags, speed);
    uint8_t status = VIGIL_CONFIG_OK;
    if (app->live.on && settings_ok) {
        finish_live(app); /* before the pipelines restart */
    }
    if (!settings_ok) {
        status = VIGIL_CONFIG_BAD_LIVE; /* nothing changes: the old session goes on */
    } else if (!configure(app, rate, flags)) {
        status = VIGIL_CONFIG_UNSUPPORTED_RATE;
    } else if (flags & VIGIL_CONFIG_FLAG_SENSORS) {
        const accel_source_t *accel = NULL;
        const ppg_source_t *ppg = NULL;
        if (!board_sensor_sources(rate, &accel, &ppg) || ppg->rate_hz != rate ||
            !live_task_start_sources(&app->live, accel, ppg, board_ticks())) {
            status = VIGIL_CONFIG_NO_SENSORS; /* configured, but not live */
            const uint8_t live_flags = VIGIL_CONFIG_FLAG_LIVE | VIGIL_CONFIG_FLAG_RAW_TAP | VIGIL_CONFIG_FLAG_SENSORS;
            app->config_flags &= (uint8_t)~live_flags;
        }
    } else if (flags & VIGIL_CONFIG_FLAG_LIVE) {
        (void)live_task_start(&app->live, seed, rate, speed, board_ticks()); /* the settings were checked above */
    }
    uint8_t ack[4];
    put_u16(ack, app->ppg.rate_hz);
    ack[2] = app->config_flags;
    ack[3] = status;
    link_send(&app->link, VIGIL_MSG_CONFIG_ACK, ack, sizeof ack);
}

static void send_cost(app_t *app)
{
    uint8_t *p = app->reply;
    p[0] = VIGIL_STAGE_COUNT;
    size_t n = 1;
    for (uint8_t st = 1; st <= VIGIL_STAGE_COUNT; st++) {
        const stage_cost_t *c = &app->costs.stage[st];
        p[n] = st;
        put_u32(p + n + 1, c->calls);
        put_u32(p + n + 5, (uint32_t)c->ticks);
        put_u32(p + n + 9, (uint32_t)(c->ticks >> 32));
        put_u32(p + n + 13, c->samples);
        n += VIGIL_COST_ENTRY_SIZE;
    }
    link_send(&app->link, VIGIL_MSG_COST, p, (uint16_t)n);
}

static void on_frame(void *ctx, const frame_t *frame)
{
    app_t *app = ctx;
    if (!vigil_payload_len_ok(frame->type, frame->len)) { /* the generated rules: one place for every fixed shape */
        app->link.stats[VIGIL_STAT_BAD_PAYLOADS]++;
        send_error(app, VIGIL_ERR_BAD_PAYLOAD, frame);
        return;
    }
    switch (frame->type) {
    case VIGIL_MSG_HELLO_REQ:
        send_hello(app);
        break;
    case VIGIL_MSG_PING:
        put_u32(app->reply, board_millis());
        memcpy(app->reply + 4, frame->payload, frame->len);
        link_send(&app->link, VIGIL_MSG_PONG, app->reply, (uint16_t)(4u + frame->len));
        break;
    case VIGIL_MSG_ECHO:
        link_send(&app->link, VIGIL_MSG_ECHO_REPLY, frame->payload, frame->len);
        break;
    case VIGIL_MSG_SAMPLES:
        accept_samples(app, frame);
        break;
    case VIGIL_MSG_STATS_REQ:
        send_stats(app);
        break;
    case VIGIL_MSG_SAMPLES_HOLD:
        app->hold_samples = frame->payload[0] != 0;
        break;
    case VIGIL_MSG_CONFIG:
        on_config(app, frame);
        break;
    case VIGIL_MSG_COST_REQ:
        send_cost(app);
        break;
    case VIGIL_MSG_NN_INPUT:
        if (!nn_task_input(&app->nn, frame->payload, frame->len)) {
            app->link.stats[VIGIL_STAT_BAD_PAYLOADS]++;
            send_error(app, VIGIL_ERR_BAD_PAYLOAD, frame);
        }
        break;
    case VIGIL_MSG_NN_RUN:
        nn_task_run(&app->nn, frame->len ? frame->payload[0] : 0, &app->link);
        break;
    case VIGIL_MSG_RESET:
        board_reset();
    default:
        app->link.stats[VIGIL_STAT_UNKNOWN_TYPES]++;
        send_error(app, VIGIL_ERR_UNKNOWN_TYPE, frame);
        break;
    }
}

int app_main(void)
{
    static app_t app; /* static: the app's buffers belong in RAM's data, not on the stack */
    board_init();
    link_init(&app.link);
    sample_queue_init(&app.samples);
    app.hold_samples = false;
    configure(&app, APP_DEFAULT_PPG_RATE_HZ, 0);
    send_hello(&app);
    for (;;) {
        size_t received = link_poll(&app.link, on_frame, &app);
        bool consumed = consume_samples(&app);
        bool live = run_live(&app);
        if (received == 0 && !consumed && !live) {
            board_idle();
        }
    }
}
