/*
 * commands.h - the CLI commands of carbonsched.
 *
 * Each command lives in service/cmd_<name>.c as
 *     int cmd_<name>(int argc, char **argv);
 * receives argv with argv[0] = the command name, parses its own options
 * (getopt_long, every command has --help) and returns the process exit
 * status: 0 success, 1 failure (bad data, unreachable service), 2 usage
 * error.  The table in main.c lists them once.
 */
#ifndef CARBONSCHED_SERVICE_COMMANDS_H
#define CARBONSCHED_SERVICE_COMMANDS_H

#define EXIT_USAGE 2

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_run_when_green(int argc, char **argv);
int cmd_keys(int argc, char **argv);

#endif
