/* Exercises every function of Stenograph's C API with real speech, bad inputs and NULL
 * arguments; exits non-zero on the first unexpected result. Run under valgrind by the tests.
 *
 *   check SPEECH.wav [MODEL]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stenograph.h"

static int failures = 0;

#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            char m[256];                                                       \
            steno_last_error_message(m, sizeof m);                             \
            fprintf(stderr, "%s:%d: expected %s (last error: %s)\n", __FILE__, \
                    __LINE__, #cond, m);                                       \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static int progress_calls = 0;
static void on_progress(int percent, void *user) {
    (void)user;
    if (percent >= 0 && percent <= 100) __atomic_add_fetch(&progress_calls, 1, __ATOMIC_SEQ_CST);
}

static int polls = 0;
static bool abort_at_once(void *user) {
    (void)user;
    polls++;
    return true;
}

static int later_polls = 0;
static bool abort_on_third_poll(void *user) {
    (void)user;
    return ++later_polls >= 3;
}

static int segment_calls = 0;
static void on_segment(const steno_segment *seg, void *user) {
    (void)user;
    if (seg && seg->text && seg->end >= seg->start) __atomic_add_fetch(&segment_calls, 1, __ATOMIC_SEQ_CST);
}

/* Counts a stream's events by type and keeps its last final's text. */
typedef struct {
    int counts[4];
    char last_final[512];
    size_t words;
} stream_seen;

static void on_stream_event(const steno_stream_event *ev, void *user) {
    stream_seen *seen = user;
    if (ev->kind < 0 || ev->kind > 3) return;
    seen->counts[ev->kind]++;
    if (ev->kind == STENO_EVENT_TYPE_FINAL) {
        snprintf(seen->last_final, sizeof seen->last_final, "%s", ev->text);
        for (size_t i = 0; i < ev->word_count; i++)
            if (ev->words[i].text && ev->words[i].end >= ev->words[i].start) seen->words++;
    }
}

/* The 16-bit mono samples of a canonical PCM WAV file (as espeak-ng writes), or NULL. */
static int16_t *wav_samples(const unsigned char *data, size_t len, size_t *frames, uint32_t *rate) {
    size_t off = 12;
    while (off + 8 <= len) {
        uint32_t size = data[off + 4] | data[off + 5] << 8 | data[off + 6] << 16 | (uint32_t)data[off + 7] << 24;
        if (memcmp(data + off, "fmt ", 4) == 0 && off + 16 <= len)
            *rate = data[off + 12] | data[off + 13] << 8 | data[off + 14] << 16 | (uint32_t)data[off + 15] << 24;
        if (memcmp(data + off, "data", 4) == 0) {
            size_t n = (len - off - 8 < size ? len - off - 8 : size) / 2;
            int16_t *out = malloc(n * sizeof *out);
            if (!out) return NULL;
            for (size_t i = 0; i < n; i++) out[i] = (int16_t)(data[off + 8 + 2 * i] | data[off + 9 + 2 * i] << 8);
            *frames = n;
            return out;
        }
        off += 8 + size + (size & 1);
    }
    return NULL;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(*len);
    if (data && fread(data, 1, *len, f) != *len) { free(data); data = NULL; }
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: check SPEECH.wav [MODEL]\n"); return 2; }
    const char *model = argc > 2 ? argv[2] : "tiny.en";

    /* Version and names. */
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", STENO_VERSION_MAJOR, STENO_VERSION_MINOR, STENO_VERSION_PATCH);
    EXPECT(strcmp(version, steno_version()) == 0);
    EXPECT(strcmp(steno_status_name(STENO_STATUS_DECODE), "STENO_STATUS_DECODE") == 0);
    EXPECT(strcmp(steno_status_name(999), "STENO_STATUS_UNKNOWN") == 0);

    /* NULL arguments everywhere. */
    steno_transcriber *t = NULL;
    steno_transcript *tr = NULL;
    EXPECT(steno_transcriber_new(model, NULL, NULL) == STENO_STATUS_NULL_ARGUMENT);
    EXPECT(steno_transcribe_file(NULL, argv[1], NULL, &tr) == STENO_STATUS_NULL_ARGUMENT && tr == NULL);
    EXPECT(steno_transcribe_memory(NULL, NULL, 0, NULL, NULL) == STENO_STATUS_NULL_ARGUMENT);
    EXPECT(steno_transcript_segment(NULL, 0, NULL) == STENO_STATUS_NULL_ARGUMENT);
    EXPECT(strcmp(steno_transcript_text(NULL), "") == 0);
    EXPECT(steno_transcript_segment_count(NULL) == 0);
    EXPECT(steno_transcript_language_probability(NULL) == 0.0f);
    EXPECT(steno_transcript_duration(NULL) == 0.0);
    EXPECT(strcmp(steno_transcript_language(NULL), "") == 0);
    EXPECT(steno_transcript_word(NULL, 0, 0, NULL) == STENO_STATUS_NULL_ARGUMENT);
    EXPECT(steno_transcript_format(NULL, STENO_FORMAT_TEXT, NULL) == STENO_STATUS_NULL_ARGUMENT);
    steno_transcript_free(NULL);
    steno_transcriber_free(NULL);
    steno_string_free(NULL);

    /* Message retrieval: length query, truncation. */
    EXPECT(steno_transcriber_new("no-such-model", NULL, &t) == STENO_STATUS_MODEL && t == NULL);
    size_t need = steno_last_error_message(NULL, 0);
    EXPECT(need > 10);
    char small[8];
    EXPECT(steno_last_error_message(small, sizeof small) == need && strlen(small) == 7);
    EXPECT(steno_transcriber_new("tiny.en", "tpu", &t) == STENO_STATUS_INVALID_ARGUMENT);
    EXPECT(steno_transcriber_new("\xff\xfe", NULL, &t) == STENO_STATUS_INVALID_UTF8);
    EXPECT(strcmp(steno_last_error_code(), "invalid_utf8") == 0);
    EXPECT(steno_transcriber_new("no-such-model", NULL, &t) == STENO_STATUS_MODEL);
    EXPECT(strcmp(steno_last_error_code(), "unknown_model") == 0);
    EXPECT(steno_transcriber_new("/nonexistent.bin", NULL, &t) == STENO_STATUS_MODEL);
    EXPECT(strcmp(steno_last_error_code(), "model_not_found") == 0);

    EXPECT(steno_transcriber_new(model, "cpu", &t) == STENO_STATUS_OK && t != NULL);
    if (!t) return 1;

    /* A file, with word timestamps and progress. */
    steno_options opts = steno_options_default();
    opts.language = "en";
    opts.word_timestamps = 1;
    opts.on_progress = on_progress;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_OK);
    if (tr) {
        EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
        EXPECT(strcmp(steno_transcript_language(tr), "en") == 0);
        EXPECT(steno_transcript_language_probability(tr) == 1.0f); /* given, not detected */
        EXPECT(steno_transcript_duration(tr) > 1.0);
        EXPECT(steno_transcript_segment_count(tr) >= 1);
        steno_segment seg;
        EXPECT(steno_transcript_segment(tr, 0, &seg) == STENO_STATUS_OK && seg.word_count >= 3);
        EXPECT(seg.start >= 0 && seg.end > seg.start && seg.text && strlen(seg.text) > 0);
        steno_word w;
        EXPECT(steno_transcript_word(tr, 0, 0, &w) == STENO_STATUS_OK && w.text && w.end >= w.start);
        EXPECT(steno_transcript_segment(tr, 999, &seg) == STENO_STATUS_OUT_OF_RANGE);
        EXPECT(steno_transcript_word(tr, 0, 999, &w) == STENO_STATUS_OUT_OF_RANGE);
        char *srt = NULL;
        EXPECT(steno_transcript_format(tr, STENO_FORMAT_SRT, &srt) == STENO_STATUS_OK && strncmp(srt, "1\n", 2) == 0);
        steno_string_free(srt);
        char *json = NULL;
        EXPECT(steno_transcript_format(tr, STENO_FORMAT_VERBOSE_JSON, &json) == STENO_STATUS_OK && strstr(json, "\"segments\""));
        steno_string_free(json);
        EXPECT(steno_transcript_format(tr, 42, &json) == STENO_STATUS_INVALID_ARGUMENT);
        steno_transcript_free(tr);
        tr = NULL;
    }
    EXPECT(progress_calls > 0);

    /* The same bytes from memory; bad bytes. */
    size_t len = 0;
    unsigned char *data = read_file(argv[1], &len);
    EXPECT(data != NULL);
    if (data) {
        EXPECT(steno_transcribe_memory(t, data, len, NULL, &tr) == STENO_STATUS_OK);
        if (tr) EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
        steno_transcript_free(tr);
        tr = NULL;
        EXPECT(steno_transcribe_memory(t, data, 0, NULL, &tr) == STENO_STATUS_DECODE && tr == NULL);
        EXPECT(strcmp(steno_last_error_code(), "empty_input") == 0);
        EXPECT(steno_transcribe_memory(t, data, 44, NULL, &tr) == STENO_STATUS_DECODE);
        EXPECT(steno_transcribe_memory(t, (const unsigned char *)"plain text, not audio at all", 28, NULL, &tr) == STENO_STATUS_DECODE);
        EXPECT(strcmp(steno_last_error_code(), "unknown_format") == 0);
        free(data);
    }
    EXPECT(steno_transcribe_file(t, "/nonexistent/call.wav", NULL, &tr) == STENO_STATUS_IO);

    /* PCM: silence gives empty text; bad rates and channel counts are refused. */
    float *silence = calloc(16000 * 2, sizeof(float));
    EXPECT(steno_transcribe_pcm(t, silence, 16000 * 2, 16000, 1, NULL, &tr) == STENO_STATUS_OK);
    if (tr) EXPECT(strcmp(steno_transcript_text(tr), "") == 0 && steno_transcript_segment_count(tr) == 0);
    steno_transcript_free(tr);
    tr = NULL;
    EXPECT(steno_transcribe_pcm(t, silence, 100, 0, 1, NULL, &tr) == STENO_STATUS_INVALID_ARGUMENT);
    EXPECT(steno_transcribe_pcm(t, silence, 100, 16000, 0, NULL, &tr) != STENO_STATUS_OK);
    EXPECT(steno_transcribe_pcm(t, NULL, 100, 16000, 1, NULL, &tr) == STENO_STATUS_NULL_ARGUMENT);
    free(silence);

    /* Bad options; an abort callback that cancels at once. */
    opts = steno_options_default();
    opts.language = "fr";
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT);
    opts = steno_options_default();
    opts.should_abort = abort_at_once;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_CANCELLED && tr == NULL);
    EXPECT(polls >= 1);
    /* Cancelled mid-run: the work already started finishes in the background, and
     * steno_transcriber_free below waits for it. */
    opts.should_abort = abort_on_third_poll;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_CANCELLED && tr == NULL);
    EXPECT(later_polls >= 3);

    /* An initial prompt with beam search; more beams than whisper.cpp decodes are refused. */
    opts = steno_options_default();
    opts.initial_prompt = "Notes from a customer call.";
    opts.beam_size = 2;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_OK);
    if (tr) EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
    steno_transcript_free(tr);
    tr = NULL;
    opts.beam_size = 9;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    EXPECT(strcmp(steno_last_error_code(), "invalid_argument") == 0);
    opts = steno_options_default();
    opts.language = "english";
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts.language = "EN";
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_OK);
    EXPECT(strcmp(steno_last_error_code(), "") == 0);
    steno_transcript_free(tr);
    tr = NULL;
    /* Languages detection chooses from: checked, and one this English-only model lacks is
     * refused. */
    opts = steno_options_default();
    opts.languages = "de,fr";
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts.languages = "en,xx";
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts.languages = "de, EN";
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_OK);
    if (tr) EXPECT(strcmp(steno_transcript_language(tr), "en") == 0);
    steno_transcript_free(tr);
    tr = NULL;

    /* Versioned options: the size comes from steno_options_default(); a caller built before
     * the segment callback existed passes a smaller size and keeps working; a wrong size is
     * refused. */
    opts = steno_options_default();
    EXPECT(opts.size == sizeof(steno_options));
    opts.size = 0;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts.size = sizeof(steno_options) + 8;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts = steno_options_default();
    opts.on_segment = on_segment;            /* beyond the older size: ignored */
    opts.size = offsetof(steno_options, on_segment);
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_OK);
    EXPECT(segment_calls == 0);
    steno_transcript_free(tr);
    tr = NULL;

    /* The task, and each segment as it is produced. */
    opts = steno_options_default();
    opts.task = STENO_TASK_TRANSLATE;        /* tiny.en is English-only */
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts.task = 7;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT && tr == NULL);
    opts.task = STENO_TASK_TRANSCRIBE;
    opts.on_segment = on_segment;
    EXPECT(steno_transcribe_file(t, argv[1], &opts, &tr) == STENO_STATUS_OK);
    if (tr) {
        EXPECT(segment_calls == (int)steno_transcript_segment_count(tr) && segment_calls > 0);
        EXPECT(strcmp(steno_transcript_task(tr), "transcribe") == 0);
        EXPECT(steno_transcript_warning_count(tr) == 0 && steno_transcript_warning(tr, 0) == NULL);
    }
    steno_transcript_free(tr);
    tr = NULL;
    EXPECT(strcmp(steno_transcript_task(NULL), "") == 0);
    EXPECT(strcmp(steno_format_content_type(STENO_FORMAT_SRT), "application/x-subrip") == 0);
    EXPECT(strcmp(steno_format_content_type(STENO_FORMAT_VERBOSE_JSON), "application/json") == 0);
    EXPECT(strcmp(steno_format_content_type(99), "") == 0);

    /* 16-bit PCM (the WAV's own samples), and a file cut off half-way, which says so. */
    data = read_file(argv[1], &len);
    if (data && len > 44) {
        uint32_t rate = (uint32_t)data[24] | (uint32_t)data[25] << 8 | (uint32_t)data[26] << 16 | (uint32_t)data[27] << 24;
        size_t frames = (len - 44) / 2;
        int16_t *pcm = malloc(frames * sizeof *pcm);
        memcpy(pcm, data + 44, frames * sizeof *pcm);
        EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, NULL, &tr) == STENO_STATUS_OK);
        if (tr) EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
        steno_transcript_free(tr);
        tr = NULL;
        EXPECT(steno_transcribe_pcm_i16(t, NULL, frames, rate, 1, NULL, &tr) == STENO_STATUS_NULL_ARGUMENT);

        /* Speakers by channel: the clip on the left channel, the right one silent. */
        int16_t *stereo = calloc(2 * frames, sizeof *stereo);
        for (size_t i = 0; i < frames; i++) stereo[2 * i] = pcm[i];
        opts = steno_options_default();
        opts.speakers = "channels";
        opts.speaker_names = "agent,customer";
        EXPECT(steno_transcribe_pcm_i16(t, stereo, frames, rate, 2, &opts, &tr) == STENO_STATUS_OK);
        if (tr) {
            EXPECT(steno_transcript_speaker_count(tr) == 2);
            EXPECT(strcmp(steno_transcript_speaker(tr, 0), "agent") == 0);
            EXPECT(strcmp(steno_transcript_speaker(tr, 1), "customer") == 0);
            EXPECT(steno_transcript_speaker(tr, 2) == NULL);
            EXPECT(steno_transcript_segment_count(tr) > 0);
            for (size_t i = 0; i < steno_transcript_segment_count(tr); i++) {
                int32_t who = -2, over = -1;
                EXPECT(steno_transcript_said_by(tr, i, SIZE_MAX, &who, &over) == STENO_STATUS_OK);
                EXPECT(who == 0 && over == 0);
            }
            int32_t who = 0;
            EXPECT(steno_transcript_said_by(tr, 999, SIZE_MAX, &who, NULL) == STENO_STATUS_OUT_OF_RANGE);
            EXPECT(steno_transcript_said_by(tr, 0, 999, &who, NULL) == STENO_STATUS_OUT_OF_RANGE);
            char *turns = NULL;
            EXPECT(steno_transcript_format(tr, STENO_FORMAT_TEXT, &turns) == STENO_STATUS_OK);
            EXPECT(turns && strncmp(turns, "agent: ", 7) == 0);
            steno_string_free(turns);
        }
        steno_transcript_free(tr);
        tr = NULL;
        opts.speakers = "everyone";
        EXPECT(steno_transcribe_pcm_i16(t, stereo, frames, rate, 2, &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT);
        opts.speakers = "channels";
        opts.speaker_names = "agent,agent";
        EXPECT(steno_transcribe_pcm_i16(t, stereo, frames, rate, 2, &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT);
        EXPECT(tr == NULL);
        free(stereo);
        /* Speakers by voice: one voice in a mono clip is one speaker; a count out of range
         * is refused. */
        opts = steno_options_default();
        opts.speakers = "auto";
        EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, &opts, &tr) == STENO_STATUS_OK);
        if (tr) {
            EXPECT(steno_transcript_speaker_count(tr) == 1);
            EXPECT(strcmp(steno_transcript_speaker(tr, 0), "SPEAKER_0") == 0);
            EXPECT(steno_transcript_segment_count(tr) > 0);
            for (size_t i = 0; i < steno_transcript_segment_count(tr); i++) {
                int32_t who = -2;
                EXPECT(steno_transcript_said_by(tr, i, SIZE_MAX, &who, NULL) == STENO_STATUS_OK);
                EXPECT(who == 0);
            }
            EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
        }
        steno_transcript_free(tr);
        tr = NULL;
        opts.speakers = "33";
        EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT);
        EXPECT(tr == NULL);
        /* Without speakers the same call has none. */
        EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, NULL, &tr) == STENO_STATUS_OK);
        if (tr) {
            int32_t who = 7;
            EXPECT(steno_transcript_speaker_count(tr) == 0);
            EXPECT(steno_transcript_said_by(tr, 0, SIZE_MAX, &who, NULL) == STENO_STATUS_OK && who == -1);
        }
        steno_transcript_free(tr);
        tr = NULL;
        /* Hotwords: a list separated by commas and new lines biases every window and leaves
         * the rest of the speech as it was; bad lists are refused before any work. */
        opts = steno_options_default();
        opts.hotwords = "Kowalczyk, Zyxtera\nQuantivo";
        EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, &opts, &tr) == STENO_STATUS_OK);
        if (tr) EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
        steno_transcript_free(tr);
        tr = NULL;
        char too_long[80];
        memset(too_long, 'x', sizeof too_long - 1);
        too_long[sizeof too_long - 1] = '\0';
        const char *bad_lists[] = {"bell\a", too_long};
        for (size_t i = 0; i < sizeof bad_lists / sizeof *bad_lists; i++) {
            opts.hotwords = bad_lists[i];
            EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT);
            EXPECT(tr == NULL);
        }
        /* Sound events: every mode keeps the speech; an unknown mode is refused. */
        opts = steno_options_default();
        const char *modes[] = {"drop", "keep", "suppress"};
        for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
            opts.sound_events = modes[i];
            EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, &opts, &tr) == STENO_STATUS_OK);
            if (tr) EXPECT(strstr(steno_transcript_text(tr), "customer") != NULL);
            steno_transcript_free(tr);
            tr = NULL;
        }
        opts.sound_events = "mute";
        EXPECT(steno_transcribe_pcm_i16(t, pcm, frames, rate, 1, &opts, &tr) == STENO_STATUS_INVALID_ARGUMENT);
        EXPECT(tr == NULL);
        free(pcm);
        EXPECT(steno_transcribe_memory(t, data, len / 2, NULL, &tr) == STENO_STATUS_OK);
        if (tr) {
            EXPECT(steno_transcript_warning_count(tr) == 1);
            const char *warning = steno_transcript_warning(tr, 0);
            EXPECT(warning && strncmp(warning, "truncated", 9) == 0);
        }
        steno_transcript_free(tr);
        tr = NULL;
    }
    free(data);

    /* A batch of files, in input order; one missing path fails the whole call. */
    const char *paths[2] = {argv[1], argv[1]};
    steno_transcript *batch[2] = {NULL, NULL};
    EXPECT(steno_transcribe_batch_files(t, paths, 2, NULL, batch) == STENO_STATUS_OK);
    if (batch[0] && batch[1]) EXPECT(strcmp(steno_transcript_text(batch[0]), steno_transcript_text(batch[1])) == 0);
    steno_transcript_free(batch[0]);
    steno_transcript_free(batch[1]);
    const char *with_null[2] = {argv[1], NULL};
    EXPECT(steno_transcribe_batch_files(t, with_null, 2, NULL, batch) == STENO_STATUS_NULL_ARGUMENT);
    EXPECT(batch[0] == NULL && batch[1] == NULL);
    opts = steno_options_default();
    opts.on_segment = on_segment;
    EXPECT(steno_transcribe_batch_files(t, paths, 2, &opts, batch) == STENO_STATUS_INVALID_ARGUMENT);
    EXPECT(steno_transcribe_batch_files(t, NULL, 2, NULL, batch) == STENO_STATUS_NULL_ARGUMENT);

    /* A live stream: the clip pushed in 100 ms pieces, then a second of silence. */
    {
        size_t len = 0, frames = 0;
        uint32_t rate = 0;
        unsigned char *file = read_file(argv[1], &len);
        int16_t *pcm = file ? wav_samples(file, len, &frames, &rate) : NULL;
        EXPECT(pcm != NULL && rate > 0);
        stream_seen seen = {{0}, "", 0};
        steno_stream_options so = steno_stream_options_default();
        so.word_timestamps = 1;
        steno_stream *s = NULL;
        EXPECT(steno_stream_new(NULL, &so, on_stream_event, &seen, &s) == STENO_STATUS_NULL_ARGUMENT && s == NULL);
        EXPECT(steno_stream_new(t, &so, on_stream_event, &seen, NULL) == STENO_STATUS_NULL_ARGUMENT);
        so.language = "xx";
        EXPECT(steno_stream_new(t, &so, on_stream_event, &seen, &s) == STENO_STATUS_INVALID_ARGUMENT && s == NULL);
        so.language = NULL;
        so.languages = "de";
        EXPECT(steno_stream_new(t, &so, on_stream_event, &seen, &s) == STENO_STATUS_INVALID_ARGUMENT && s == NULL);
        so.languages = NULL;
        so.max_turn_ms = 60000;
        EXPECT(steno_stream_new(t, &so, on_stream_event, &seen, &s) == STENO_STATUS_INVALID_ARGUMENT && s == NULL);
        so.max_turn_ms = steno_stream_options_default().max_turn_ms;
        so.hotwords = "Acme\tCloud";
        EXPECT(steno_stream_new(t, &so, on_stream_event, &seen, &s) == STENO_STATUS_INVALID_ARGUMENT && s == NULL);
        so.hotwords = "Kowalczyk,Zyxtera";
        EXPECT(steno_stream_new(t, &so, on_stream_event, &seen, &s) == STENO_STATUS_OK && s != NULL);
        if (s && pcm) {
            int16_t silence[2205] = {0};
            for (int i = 0; i < 10; i++) EXPECT(steno_stream_push_pcm_i16(s, silence, rate / 10, rate) == STENO_STATUS_OK);
            for (size_t at = 0; at < frames; at += rate / 10) {
                size_t n = frames - at < rate / 10 ? frames - at : rate / 10;
                EXPECT(steno_stream_push_pcm_i16(s, pcm + at, n, rate) == STENO_STATUS_OK);
            }
            for (int i = 0; i < 10; i++) EXPECT(steno_stream_push_pcm_i16(s, silence, rate / 10, rate) == STENO_STATUS_OK);
            EXPECT(steno_stream_push_pcm_i16(s, NULL, 10, rate) == STENO_STATUS_NULL_ARGUMENT);
            EXPECT(steno_stream_push_pcm_i16(s, silence, 10, 48000) == STENO_STATUS_INVALID_ARGUMENT);
            float bad[2] = {0.0f, 0.0f / 0.0f};
            EXPECT(steno_stream_push_pcm(s, bad, 2, rate) == STENO_STATUS_INVALID_ARGUMENT);
            bool committed = true;
            EXPECT(steno_stream_commit(s, &committed) == STENO_STATUS_OK && !committed);
            EXPECT(steno_stream_clear(s) == STENO_STATUS_OK);
            EXPECT(steno_stream_finish(s) == STENO_STATUS_OK);
            EXPECT(steno_stream_push_pcm_i16(s, silence, 10, rate) == STENO_STATUS_INVALID_ARGUMENT);
            EXPECT(seen.counts[STENO_EVENT_TYPE_SPEECH_STARTED] == 1);
            EXPECT(seen.counts[STENO_EVENT_TYPE_SPEECH_STOPPED] == 1);
            EXPECT(seen.counts[STENO_EVENT_TYPE_FINAL] == 1);
            EXPECT(strstr(seen.last_final, "customer") != NULL);
            EXPECT(seen.words >= 5);
            EXPECT(steno_stream_duration(s) > (double)frames / rate);
        }
        steno_stream_free(s);
        /* Cancelled: every later call fails with STENO_STATUS_CANCELLED. */
        s = NULL;
        EXPECT(steno_stream_new(t, NULL, NULL, NULL, &s) == STENO_STATUS_OK);
        steno_stream_cancel(s);
        if (pcm) EXPECT(steno_stream_push_pcm_i16(s, pcm, frames, rate) == STENO_STATUS_CANCELLED);
        EXPECT(steno_stream_finish(s) == STENO_STATUS_CANCELLED);
        steno_stream_free(s);
        steno_stream_free(NULL);
        steno_stream_cancel(NULL);
        EXPECT(steno_stream_duration(NULL) == 0.0);
        EXPECT(steno_stream_finish(NULL) == STENO_STATUS_NULL_ARGUMENT);
        free(pcm);
        free(file);
    }

    steno_transcriber_free(t);

    /* Loading with every setting. */
    steno_transcriber_options topts = steno_transcriber_options_default();
    topts.model = model;
    topts.device = "cpu";
    topts.max_concurrent = 2;
    topts.threads_per_call = 1;
    EXPECT(steno_transcriber_open(&topts, &t) == STENO_STATUS_OK && t != NULL);
    steno_transcriber_free(t);
    t = NULL;
    topts.size = 3;
    EXPECT(steno_transcriber_open(&topts, &t) == STENO_STATUS_INVALID_ARGUMENT && t == NULL);
    EXPECT(steno_transcriber_open(&topts, NULL) == STENO_STATUS_NULL_ARGUMENT);

    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    else printf("all checks passed\n");
    return failures ? 1 : 0;
}
