/*
 * fuzz_config.c: libFuzzer target for the config.txt parser.
 * The input is the text of a config file.
 */
#include "pass/pass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ms_settings s;
    struct ms_error err;
    ms_settings_init(&s);
    ms_settings_parse_config(&s, (const char *)data, size, "fuzz.txt", &err);
    ms_settings_finish(&s);
    return 0;
}
