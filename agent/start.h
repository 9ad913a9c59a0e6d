/* The start pipeline: xend's VM start as a table of stages, each with a
 * progress range, a run and an undo, driven one at a time by the loop. */
#ifndef XSAGENT_START_H
#define XSAGENT_START_H

#include <sys/types.h>

#include "core.h"
#include "task.h"

/* Look the VM up, check it may start, and run the stages.  Returns when
 * the task has ended or waits on a child or timer; the task's end is
 * reported through the core's task_ended hook. */
void start_run(struct core *co, struct task *t);
/* Start vm, found already and halted, in task t (a reboot, a restart). */
void start_vm(struct core *co, struct task *t, struct vm *vm);
/* Roll a running start back now (the agent is stopping). */
void start_abort(struct core *co, struct task *t, const char *why);
/* A watch on a device backend of task task_id fired. */
void start_dev_event(struct core *co, const char *task_id);
/* A child process has exited: true if it was a start's builder. */
bool start_child_exited(struct core *co, pid_t pid, int status);

#endif
