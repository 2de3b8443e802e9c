/* Transcribes an audio file with Stenograph's C API and prints the text.
 *
 *   transcribe FILE [MODEL]     MODEL: a ggml path or a registry name (default tiny.en)
 */
#include <stdio.h>
#include <stdlib.h>

#include "stenograph.h"

static int fail(const char *what, steno_status status) {
    char message[512];
    steno_last_error_message(message, sizeof message);
    fprintf(stderr, "%s: %s: %s\n", what, steno_status_name(status), message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [MODEL]   (stenograph %s)\n", argv[0], steno_version());
        return 2;
    }
    steno_transcriber *t = NULL;
    steno_status status = steno_transcriber_new(argc == 3 ? argv[2] : "tiny.en", "auto", &t);
    if (status != STENO_STATUS_OK) return fail("loading the model", status);

    steno_options opts = steno_options_default();
    steno_transcript *tr = NULL;
    status = steno_transcribe_file(t, argv[1], &opts, &tr);
    if (status != STENO_STATUS_OK) {
        steno_transcriber_free(t);
        return fail(argv[1], status);
    }
    printf("%s\n", steno_transcript_text(tr));
    steno_transcript_free(tr);
    steno_transcriber_free(t);
    return 0;
}
