/*
 * Raw whisper.cpp contender for transcribe_compare: the whisper.cpp that whisper-rs-sys
 * vendors, called through its C API with the parameters Stenograph uses (English, one thread
 * per state, no context, non-speech tokens suppressed, fallback thresholds 2.4 / -1, the
 * encoder window trimmed to 50 positions per second + 512 for inputs of at most 30 s).
 *
 * Usage: whisper_full_bench MODEL BEAM WORKERS FILE.wav...
 * FILEs are 16 kHz mono 16-bit PCM WAV. The model is loaded once, one state per worker
 * thread, a warm-up call on the first file, then WORKERS threads take files in turn.
 * Prints {"seconds": wall seconds of the timed part, "texts": [...]} on stdout.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whisper.h"

struct clip {
    float *samples;
    int n;
    char *text;
};

static struct whisper_context *ctx;
static struct clip *clips;
static int n_clips;
static int beam;
static int next_clip;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)level, (void)text, (void)user;
}

static void die(const char *what, const char *arg) {
    fprintf(stderr, "whisper_full_bench: %s %s\n", what, arg);
    exit(1);
}

static uint32_t le32(const unsigned char *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads a 16 kHz mono PCM16 WAV file, walking its chunks to "data". */
static void read_wav(const char *path, struct clip *out) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open", path);
    unsigned char head[12], chunk[8], fmt[16];
    if (fread(head, 1, 12, f) != 12 || memcmp(head, "RIFF", 4) || memcmp(head + 8, "WAVE", 4))
        die("not a WAV file:", path);
    int have_fmt = 0;
    for (;;) {
        if (fread(chunk, 1, 8, f) != 8) die("no data chunk in", path);
        uint32_t size = le32(chunk + 4);
        if (!memcmp(chunk, "fmt ", 4)) {
            if (size < 16 || fread(fmt, 1, 16, f) != 16) die("bad fmt chunk in", path);
            if (fmt[0] != 1 || fmt[2] != 1 || le32(fmt + 4) != 16000 || fmt[14] != 16)
                die("not 16 kHz mono PCM16:", path);
            have_fmt = 1;
            fseek(f, (long)(size - 16 + (size & 1)), SEEK_CUR);
        } else if (!memcmp(chunk, "data", 4)) {
            if (!have_fmt) die("data before fmt in", path);
            out->n = (int)(size / 2);
            int16_t *pcm = malloc(size);
            out->samples = malloc(sizeof(float) * (size_t)out->n);
            if (!pcm || !out->samples) die("out of memory reading", path);
            out->n = (int)fread(pcm, 2, (size_t)out->n, f);
            for (int i = 0; i < out->n; i++) out->samples[i] = pcm[i] / 32768.0f;
            free(pcm);
            break;
        } else {
            fseek(f, (long)(size + (size & 1)), SEEK_CUR);
        }
    }
    fclose(f);
}

static char *transcribe(struct whisper_state *state, const struct clip *c) {
    struct whisper_full_params p = whisper_full_default_params(
        beam > 1 ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
    p.n_threads = 1;
    p.language = "en";
    p.no_context = true;
    p.suppress_nst = true;
    p.print_progress = false;
    p.print_realtime = false;
    p.print_special = false;
    p.print_timestamps = false;
    p.temperature_inc = 0.2f;
    p.entropy_thold = 2.4f;
    p.logprob_thold = -1.0f;
    p.beam_search.beam_size = beam;
    p.beam_search.patience = -1.0f;
    double seconds = c->n / 16000.0;
    if (seconds <= 30.0) {
        int positions = (int)(seconds * 50.0 + 512.0 + 0.999999);
        p.audio_ctx = positions < 1500 ? positions : 1500;
    }
    if (whisper_full_with_state(ctx, state, p, c->samples, c->n) != 0) die("whisper_full failed", "");
    size_t len = 1, cap = 256;
    char *text = calloc(cap, 1);
    int n = whisper_full_n_segments_from_state(state);
    for (int i = 0; i < n; i++) {
        const char *s = whisper_full_get_segment_text_from_state(state, i);
        size_t add = strlen(s);
        while (len + add > cap) text = realloc(text, cap *= 2);
        memcpy(text + len - 1, s, add + 1);
        len += add;
    }
    return text;
}

static void *worker(void *arg) {
    struct whisper_state *state = arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        int i = next_clip++;
        pthread_mutex_unlock(&lock);
        if (i >= n_clips) return NULL;
        clips[i].text = transcribe(state, &clips[i]);
    }
}

static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    if (argc < 5) die("usage: whisper_full_bench MODEL BEAM WORKERS FILE.wav...", "");
    whisper_log_set(quiet, NULL);
    beam = atoi(argv[2]);
    int workers = atoi(argv[3]);
    n_clips = argc - 4;
    clips = calloc((size_t)n_clips, sizeof *clips);
    for (int i = 0; i < n_clips; i++) read_wav(argv[4 + i], &clips[i]);

    struct whisper_context_params cp = whisper_context_default_params();
    cp.use_gpu = false;
    cp.flash_attn = true; // as Stenograph: the decoder's attention fused on the CPU (patch 0018)
    ctx = whisper_init_from_file_with_params_no_state(argv[1], cp);
    if (!ctx) die("cannot load model", argv[1]);
    struct whisper_state **states = calloc((size_t)workers, sizeof *states);
    for (int w = 0; w < workers; w++) {
        states[w] = whisper_init_state(ctx);
        if (!states[w]) die("cannot create state", "");
    }
    free(transcribe(states[0], &clips[0]));

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t *threads = calloc((size_t)workers, sizeof *threads);
    for (int w = 0; w < workers; w++) pthread_create(&threads[w], NULL, worker, states[w]);
    for (int w = 0; w < workers; w++) pthread_join(threads[w], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    printf("{\"seconds\": %.6f, \"texts\": [", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (int i = 0; i < n_clips; i++) {
        if (i) printf(", ");
        print_json_string(clips[i].text);
    }
    printf("]}\n");
    return 0;
}
