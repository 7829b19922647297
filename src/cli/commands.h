/*
 * commands.h: the subcommands of meshstats, each returning its exit
 * status (main.c dispatches).
 */
#ifndef MESHSTATS_CLI_COMMANDS_H
#define MESHSTATS_CLI_COMMANDS_H

#include "meshstats.h"

/* meshstats generate OUT.h5 [OPTIONS] (generate_cmd.c). */
int cmd_generate(int argc, char **argv);

#endif
