/*
 * trap: a program that stops itself with __builtin_trap (ud2): SIGILL on
 * every CPU, which says nothing of the extensions it needs.
 */
#include <stdio.h>
int main(int argc, char **argv) {
  printf("%d\n", argc);
  if (argc > 1) __builtin_trap();
  return 0;
}
