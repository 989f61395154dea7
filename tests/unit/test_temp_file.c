/*
 * The temporary file: never an input (by name, through a link, by another spelling),
 * never an earlier run's partial file without overwrite, never one another process holds;
 * deleted unless kept, renamed on request.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "output_file.h"
#include "temp_file.h"

static char dir[256];

static const char *at(const char *name)
{
    static char paths[16][PATH_MAX]; /* a few alive at once */
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_same_file(void)
{
    CHECK(vsr_output_same_file(at("a.mov"), at("./a.mov")), "another spelling, not created yet");
    CHECK(!vsr_output_same_file(at("a.mov"), at("b.mov")), "two names");
    mkdir(at("sub"), 0700);
    symlink(at("sub"), at("link"));
    CHECK(vsr_output_same_file(at("sub/x.mov"), at("link/x.mov")), "through a linked folder");
    write_file(at("sub/y.mov"), "y");
    symlink(at("sub/y.mov"), at("y-link.mov"));
    CHECK(vsr_output_same_file(at("y-link.mov"), at("sub/y.mov")), "a link to a file");
}

static void test_names_avoid_inputs(void)
{
    vsr_err err = {{0}};
    vsr_temp_file *f = NULL;
    const char *inputs[] = {at("film.partial.mov"), at("./film.partial-1.mov")};
    write_file(inputs[0], "first part");
    int ret = vsr_temp_file_create(&f, at("film.mov"), inputs, 2, 0, &err);
    CHECK(ret == VSR_OK, "%s", err.msg);
    CHECK(f && !strcmp(vsr_temp_file_name(f), at("film.partial-2.mov")), "%s",
          f ? vsr_temp_file_name(f) : "none");
    vsr_temp_file_close(&f);
    CHECK(file_size(at("film.partial-2.mov")) < 0, "not kept: deleted");
    CHECK(file_size(inputs[0]) == 10, "the input is untouched");
}

static void test_existing_partial(void)
{
    vsr_err err = {{0}};
    vsr_temp_file *f = NULL;
    write_file(at("old.partial.mov"), "earlier work");
    CHECK(vsr_temp_file_check(at("old.mov"), 0, &err) == VSR_ERROR_PARTIAL_KEPT &&
              strstr(err.msg, "-y"),
          "%s", err.msg);
    CHECK(vsr_temp_file_create(&f, at("old.mov"), NULL, 0, 0, &err) < 0, "kept without -y");
    vsr_temp_file_close(&f);
    CHECK(file_size(at("old.partial.mov")) == 12, "untouched");
    CHECK(vsr_temp_file_check(at("old.mov"), 1, &err) == VSR_OK, "%s", err.msg);
    CHECK(vsr_temp_file_create(&f, at("old.mov"), NULL, 0, 1, &err) == VSR_OK, "%s", err.msg);
    CHECK(file_size(at("old.partial.mov")) == 0, "emptied with -y");

    /* Another process finds it locked, even with -y, and is told who holds it. */
    char pid[32];
    snprintf(pid, sizeof(pid), "(pid %ld)", (long)getpid());
    pid_t child = fork();
    if (child == 0) {
        vsr_temp_file *g = NULL;
        vsr_err e = {{0}};
        int refused = vsr_temp_file_create(&g, at("old.mov"), NULL, 0, 1, &e) < 0 &&
                      strstr(e.msg, "another vsrup") && strstr(e.msg, pid);
        vsr_temp_file_close(&g);
        _exit(refused ? 0 : 1);
    }
    int status = 1;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second writer refused");
    CHECK(file_size(at("old.partial.mov")) == 0, "and it left the file alone");

    avio_write(vsr_temp_file_io(f), (const unsigned char *)"new", 3);
    CHECK(vsr_temp_file_flush(f, &err) == VSR_OK, "%s", err.msg);
    CHECK(vsr_temp_file_rename(f, &err) == VSR_OK, "%s", err.msg);
    vsr_temp_file_close(&f);
    CHECK(file_size(at("old.mov")) == 3 && file_size(at("old.partial.mov")) < 0, "renamed");
}

int main(void)
{
    if (!fixture_temp_dir(dir, sizeof(dir), "temp_file"))
        return 1;
    test_same_file();
    test_names_avoid_inputs();
    test_existing_partial();
    if (!fixture_remove_dir(dir))
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
