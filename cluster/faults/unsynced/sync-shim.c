/*
 * LD_PRELOAD shim that records which file contents a process made durable, so that a fault can
 * later roll the files back to what a power loss would have kept. It only records: every call
 * goes to the real libc function with the same arguments, and its result and errno reach the
 * caller unchanged.
 *
 * Environment:
 *   SIGNET_SYNC_ROOT     absolute folder; only files under it are recorded
 *   SIGNET_SYNC_JOURNAL  file the records are appended to (created when missing)
 * Without both, the shim records nothing. A root that does not exist or a journal that cannot be
 * opened ends the process at load with exit status 70, because a silent gap in the journal would
 * make the rollback drop data that was in fact synced.
 *
 * Journal lines, each appended with one write() after the real call succeeded:
 *   S <TAB> size <TAB> path         fsync or fdatasync of a regular file; size is from fstat
 *                                   taken before the call, so it never counts bytes written
 *                                   while the call ran
 *   R <TAB> from <TAB> to           rename, renameat, renameat2
 *   X <TAB> a <TAB> b               renameat2 with RENAME_EXCHANGE
 *   U <TAB> path                    unlink, unlinkat
 * Paths are absolute, with symbolic links in the folder part resolved, so they compare equal
 * to the /proc/self/fd link of an open file.
 *
 * Within one process the journal lists these calls in the order the file system applied them.
 * One process-wide mutex is held around each rename and unlink together with its path resolution
 * and its line, and around the path lookup and line of each sync. The fsync itself runs outside
 * the mutex, so the syncs of several threads still overlap. Without the mutex, a sync racing a
 * rename in another thread could read the file's old name and append it after the rename's line,
 * and the replay would then drop a file that was synced.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define SETUP_FAILED_STATUS 70

static int journal_fd = -1;
static char root[PATH_MAX];
static size_t root_length;
/* Lock that keeps the journal lines in the order of the file system calls they record. */
static pthread_mutex_t journal_order = PTHREAD_MUTEX_INITIALIZER;

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

static void resolve_real_functions(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  real_renameat = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
  real_renameat2 =
      (int (*)(int, const char *, int, const char *, unsigned int))dlsym(RTLD_NEXT, "renameat2");
  real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
  real_unlinkat = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
}

static void fail_setup(const char *action, const char *path) {
  dprintf(STDERR_FILENO, "signet sync shim: %s %s: %s\n", action, path, strerror(errno));
  _exit(SETUP_FAILED_STATUS);
}

/*
 * Takes journal_order while recording. Keeps errno, and ends the process when the mutex fails,
 * because lines out of order would make the rollback drop synced data.
 * NOTE: a signal handler that renames, unlinks or syncs a file while its thread holds the mutex
 * deadlocks that thread, because the mutex is not recursive.
 */
static void lock_journal_order(void) {
  if (journal_fd < 0) return;
  int saved = errno;
  int problem = pthread_mutex_lock(&journal_order);
  if (problem != 0) {
    dprintf(STDERR_FILENO, "signet sync shim: cannot lock the journal order: %s\n", strerror(problem));
    _exit(SETUP_FAILED_STATUS);
  }
  errno = saved;
}

static void unlock_journal_order(void) {
  if (journal_fd < 0) return;
  int saved = errno;
  pthread_mutex_unlock(&journal_order);
  errno = saved;
}

/*
 * fork() copies the mutex as it is, so a child forked while another thread held it would wait
 * forever in its first recorded call. Holding the mutex across fork() hands the child an unlocked
 * one.
 */
static void lock_before_fork(void) { pthread_mutex_lock(&journal_order); }
static void unlock_after_fork(void) { pthread_mutex_unlock(&journal_order); }

/* Runs at load, before main, while the process has one thread. */
__attribute__((constructor)) static void start_recording(void) {
  resolve_real_functions();
  const char *root_setting = getenv("SIGNET_SYNC_ROOT");
  const char *journal = getenv("SIGNET_SYNC_JOURNAL");
  if (root_setting == NULL || journal == NULL || root_setting[0] == '\0' || journal[0] == '\0')
    return;
  if (realpath(root_setting, root) == NULL) fail_setup("cannot resolve SIGNET_SYNC_ROOT", root_setting);
  root_length = strlen(root);
  // The root "/" must match every absolute path, so drop its slash and compare "" + "/...".
  if (root_length == 1) root_length = 0;
  journal_fd = open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (journal_fd < 0) fail_setup("cannot open SIGNET_SYNC_JOURNAL", journal);
  int problem = pthread_atfork(lock_before_fork, unlock_after_fork, unlock_after_fork);
  if (problem != 0) {
    errno = problem;
    fail_setup("cannot register fork handlers for", journal);
  }
}

static int under_root(const char *path) {
  return strncmp(path, root, root_length) == 0 && (path[root_length] == '/' || path[root_length] == '\0');
}

/* One write() per line: O_APPEND makes each one land whole after the others, across threads. */
static void append_line(const char *line, int length) {
  if (length <= 0) return;
  ssize_t written = write(journal_fd, line, (size_t)length);
  if (written != length) {
    dprintf(STDERR_FILENO, "signet sync shim: cannot append to the journal (wrote %zd of %d bytes): %s\n",
            written, length, strerror(errno));
    _exit(SETUP_FAILED_STATUS);
  }
}

/*
 * Writes the absolute path of `path` relative to `dirfd` into `out` (PATH_MAX bytes). Only the
 * folder part goes through realpath, because the file itself may not exist yet (a rename's
 * target). Returns 0 when the path cannot be resolved.
 */
static int absolute_path(int dirfd, const char *path, char *out) {
  char copy[PATH_MAX];
  size_t length = strlen(path);
  if (length == 0 || length >= sizeof copy) return 0;
  memcpy(copy, path, length + 1);
  while (length > 1 && copy[length - 1] == '/') copy[--length] = '\0';

  char *slash = strrchr(copy, '/');
  const char *name = slash == NULL ? copy : slash + 1;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '\0') return 0;

  char folder[PATH_MAX + 32];
  if (slash == copy) {
    strcpy(folder, "/");
  } else if (slash != NULL) {
    *slash = '\0';
    if (copy[0] == '/' || dirfd == AT_FDCWD) snprintf(folder, sizeof folder, "%s", copy);
    else snprintf(folder, sizeof folder, "/proc/self/fd/%d/%s", dirfd, copy);
  } else if (dirfd == AT_FDCWD) {
    strcpy(folder, ".");
  } else {
    snprintf(folder, sizeof folder, "/proc/self/fd/%d", dirfd);
  }

  char resolved[PATH_MAX];
  if (realpath(folder, resolved) == NULL) return 0;
  size_t folder_length = strcmp(resolved, "/") == 0 ? 0 : strlen(resolved);
  size_t name_length = strlen(name);
  if (folder_length + 1 + name_length >= PATH_MAX) return 0;
  memcpy(out, resolved, folder_length);
  out[folder_length] = '/';
  memcpy(out + folder_length + 1, name, name_length + 1);
  return 1;
}

/* The size of `fd` when it is a regular file that still has a name, else -1. */
static long long size_before_sync(int fd) {
  if (journal_fd < 0) return -1;
  struct stat status;
  if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode) || status.st_nlink == 0) return -1;
  return (long long)status.st_size;
}

static void record_sync(int fd, long long size) {
  char link[64];
  char path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t length = readlink(link, path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = '\0';
  if (path[0] != '/' || !under_root(path)) return;
  char line[PATH_MAX + 64];
  append_line(line, snprintf(line, sizeof line, "S\t%lld\t%s\n", size, path));
}

static void record_pair(char kind, const char *from, const char *to) {
  if (!under_root(from) && !under_root(to)) return;
  char line[2 * PATH_MAX + 8];
  append_line(line, snprintf(line, sizeof line, "%c\t%s\t%s\n", kind, from, to));
}

static void record_unlink(const char *path) {
  if (!under_root(path)) return;
  char line[PATH_MAX + 8];
  append_line(line, snprintf(line, sizeof line, "U\t%s\n", path));
}

/*
 * Calls the real fsync or fdatasync and records the sync once it succeeded. The size is taken
 * before the call, so bytes written while it runs do not count as synced.
 */
static int sync_and_record(int fd, int (*real_sync)(int)) {
  long long size = size_before_sync(fd);
  int result = real_sync(fd);
  if (result == 0 && size >= 0) {
    int saved = errno;
    lock_journal_order();
    record_sync(fd, size);
    unlock_journal_order();
    errno = saved;
  }
  return result;
}

int fsync(int fd) {
  if (real_fsync == NULL) resolve_real_functions();
  return sync_and_record(fd, real_fsync);
}

int fdatasync(int fd) {
  if (real_fdatasync == NULL) resolve_real_functions();
  return sync_and_record(fd, real_fdatasync);
}

/*
 * Resolves both paths before the call, because afterwards `from` no longer exists. The caller
 * has locked journal_order, so no recorded rename of a parent folder falls between this and the call.
 */
static int rename_paths(int from_dirfd, const char *from, int to_dirfd, const char *to, char *from_out,
                        char *to_out) {
  if (journal_fd < 0) return 0;
  int saved = errno;
  int ok = absolute_path(from_dirfd, from, from_out) && absolute_path(to_dirfd, to, to_out);
  errno = saved;
  return ok;
}

int rename(const char *from, const char *to) {
  if (real_rename == NULL) resolve_real_functions();
  char from_path[PATH_MAX], to_path[PATH_MAX];
  lock_journal_order();
  int known = rename_paths(AT_FDCWD, from, AT_FDCWD, to, from_path, to_path);
  int result = real_rename(from, to);
  if (result == 0 && known) {
    int saved = errno;
    record_pair('R', from_path, to_path);
    errno = saved;
  }
  unlock_journal_order();
  return result;
}

int renameat(int from_dirfd, const char *from, int to_dirfd, const char *to) {
  if (real_renameat == NULL) resolve_real_functions();
  char from_path[PATH_MAX], to_path[PATH_MAX];
  lock_journal_order();
  int known = rename_paths(from_dirfd, from, to_dirfd, to, from_path, to_path);
  int result = real_renameat(from_dirfd, from, to_dirfd, to);
  if (result == 0 && known) {
    int saved = errno;
    record_pair('R', from_path, to_path);
    errno = saved;
  }
  unlock_journal_order();
  return result;
}

int renameat2(int from_dirfd, const char *from, int to_dirfd, const char *to, unsigned int flags) {
  if (real_renameat2 == NULL) resolve_real_functions();
  char from_path[PATH_MAX], to_path[PATH_MAX];
  lock_journal_order();
  int known = rename_paths(from_dirfd, from, to_dirfd, to, from_path, to_path);
  int result = real_renameat2(from_dirfd, from, to_dirfd, to, flags);
  if (result == 0 && known) {
    int saved = errno;
    record_pair((flags & RENAME_EXCHANGE) != 0 ? 'X' : 'R', from_path, to_path);
    errno = saved;
  }
  unlock_journal_order();
  return result;
}

static int unlink_path(int dirfd, const char *path, char *out) {
  if (journal_fd < 0) return 0;
  int saved = errno;
  int ok = absolute_path(dirfd, path, out);
  errno = saved;
  return ok;
}

int unlink(const char *path) {
  if (real_unlink == NULL) resolve_real_functions();
  char absolute[PATH_MAX];
  lock_journal_order();
  int known = unlink_path(AT_FDCWD, path, absolute);
  int result = real_unlink(path);
  if (result == 0 && known) {
    int saved = errno;
    record_unlink(absolute);
    errno = saved;
  }
  unlock_journal_order();
  return result;
}

int unlinkat(int dirfd, const char *path, int flags) {
  if (real_unlinkat == NULL) resolve_real_functions();
  char absolute[PATH_MAX];
  lock_journal_order();
  int known = unlink_path(dirfd, path, absolute);
  int result = real_unlinkat(dirfd, path, flags);
  if (result == 0 && known) {
    int saved = errno;
    record_unlink(absolute);
    errno = saved;
  }
  unlock_journal_order();
  return result;
}
