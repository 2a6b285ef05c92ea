/* Tests of the triage model (rules/triage_features.c, rules/triage_model.c, rules/guess.c):
 *  - the committed weights were trained from the committed corpus and keywords (their digests);
 *  - the held-out fifth (tests/rules/triage-holdout.tsv) and the fresh batch written after
 *    training (tests/rules/triage-fresh.tsv) share no report with the training corpus, and the
 *    model's accuracy on each, overall and per category, and the share of emergencies it would
 *    file as a confident "other", are printed with the confusion matrix and held to floors;
 *  - how the features read words: normalisation, Thai words, negation scopes;
 *  - the weights file is refused, naming the line, when anything in it is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <thai/thbrk.h>
#include <thai/thwchar.h>

#include "rules.h"
#include "tap.h"
#include "thai_words.h"
#include "triage_features.h"
#include "triage_model.h"

/* Floors: the targets (overall 90%, every category 85%, at most 2% of the emergencies
 * filed as a confident "other"). */
#define MIN_OVERALL 90.0
#define MIN_CATEGORY 85.0
#define MAX_SINK 2.0

#define NCLASS INCIDENT_CATEGORY_COUNT
#define MAX_REPORTS 4000

static struct rules_table *table;
static struct rules_table *keywords_only; /* the same table without the model: the baseline */
static char root[2048];

struct labelled {
    int label;
    char *text;
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL) {
        if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else {
            buf[size] = '\0';
            *len = (size_t)size;
        }
    }
    fclose(f);
    return buf;
}

/* Reads "code<TAB>text" lines; the number read, or -1 when the file is missing or malformed. */
static int read_labelled(const char *name, struct labelled *out, int max)
{
    char path[4096];
    size_t len;
    char *buf, *line;
    int n = 0;

    snprintf(path, sizeof path, "%s/%s", root, name);
    if ((buf = slurp(path, &len)) == NULL) return -1;
    for (line = buf; *line != '\0' && n < max;) {
        char *nl = strchr(line, '\n'), *tab;

        if (nl) *nl = '\0';
        tab = strchr(line, '\t');
        if (tab == NULL) {
            printf("# %s: not code<TAB>text: %.60s\n", name, line);
            free(buf);
            return -1;
        }
        out[n].label = incident_category_parse(line, (size_t)(tab - line));
        if (out[n].label == INCIDENT_CATEGORY_NONE) {
            free(buf);
            return -1;
        }
        out[n].text = strdup(tab + 1);
        n++;
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(buf);
    return n;
}

static void free_labelled(struct labelled *r, int n)
{
    for (int i = 0; i < n; i++) free(r[i].text);
}

static void test_digests(void)
{
    char path[4096], err[512], corpus[TRIAGE_DIGEST_SIZE], keywords[RULES_DIGEST_SIZE];
    struct triage_model *model;
    size_t len;
    char *bytes;

    snprintf(path, sizeof path, "%s/rules/triage-model.tsv", root);
    model = triage_model_load_file(path, err, sizeof err);
    if (model == NULL) printf("# %s\n", err);
    CHECK(model != NULL, "the committed weights file loads");
    snprintf(path, sizeof path, "%s/rules/triage/corpus.tsv", root);
    bytes = slurp(path, &len);
    CHECK(bytes != NULL, "the training corpus reads");
    if (model == NULL || bytes == NULL) {
        free(bytes);
        triage_model_free(model);
        return;
    }
    triage_digest(bytes, len, corpus);
    rules_keywords_digest(table, keywords);
    if (strcmp(corpus, triage_model_corpus_digest(model)) != 0 ||
        strcmp(keywords, triage_model_keywords_digest(model)) != 0)
        printf("# the weights were trained from corpus %s and keywords %s; these are %s and %s: "
               "run scripts/train-triage\n",
               triage_model_corpus_digest(model), triage_model_keywords_digest(model), corpus,
               keywords);
    CHECK(strcmp(corpus, triage_model_corpus_digest(model)) == 0,
          "the committed weights were trained from the committed corpus");
    CHECK(strcmp(keywords, triage_model_keywords_digest(model)) == 0,
          "the committed weights were trained with the rule table's keywords");
    printf("# the model: %zu features\n", triage_model_size(model));
    free(bytes);
    triage_model_free(model);
}

static int seen_in(const struct labelled *set, int n, const char *text)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(set[i].text, text) == 0) return 1;
    }
    return 0;
}

/* Classifies every report of a file and prints what the issue asks to report. */
static void evaluate(const char *name, const struct labelled *r, int n, int min_reports)
{
    int matrix[NCLASS][NCLASS] = {{0}}, total[NCLASS] = {0};
    int right = 0, unsure = 0, unsure_right = 0, sunk = 0, emergencies = 0, other_unsure = 0;
    int categories_ok = 1;
    char what[256];

    for (int i = 0; i < n; i++) {
        struct rules_guess g;
        int sink;

        rules_guess_text(table, r[i].text, strlen(r[i].text), &g);
        matrix[r[i].label][g.category]++;
        total[r[i].label]++;
        right += g.category == r[i].label;
        unsure += !g.confident;
        unsure_right += !g.confident && g.category == r[i].label;
        sink = r[i].label != INCIDENT_OTHER && g.category == INCIDENT_OTHER && g.confident;
        sunk += sink;
        emergencies += r[i].label != INCIDENT_OTHER;
        other_unsure += r[i].label == INCIDENT_OTHER && !g.confident;
        if (g.category != r[i].label)
            printf("# miss %s: %s, read as %s%s (%.2f): %s\n", name,
                   incident_category_code(r[i].label), incident_category_code(g.category),
                   g.confident ? "" : " unsure", g.confidence, r[i].text);
    }
    printf("# %s: %d reports, %d right = %.1f%%\n", name, n, right, n ? 100.0 * right / n : 0);
    if (keywords_only != NULL) {
        int kw_right = 0, kw_sunk = 0;
        for (int i = 0; i < n; i++) {
            struct rules_guess k;
            rules_guess_text(keywords_only, r[i].text, strlen(r[i].text), &k);
            kw_right += k.category == r[i].label;
            kw_sunk += r[i].label != INCIDENT_OTHER && k.category == INCIDENT_OTHER;
        }
        printf("#   (the keywords alone: %d right = %.1f%%, %d emergencies read as other)\n",
               kw_right, n ? 100.0 * kw_right / n : 0, kw_sunk);
    }
    for (int c = 0; c < NCLASS; c++) {
        double pct = total[c] ? 100.0 * matrix[c][c] / total[c] : 0;
        printf("#   %-13s %3d/%3d = %5.1f%%\n", incident_category_code(c), matrix[c][c], total[c],
               pct);
        categories_ok &= total[c] > 0 && pct >= MIN_CATEGORY;
    }
    printf("#   label \\ read as");
    for (int c = 0; c < NCLASS; c++) printf(" %13s", incident_category_code(c));
    printf("\n");
    for (int a = 0; a < NCLASS; a++) {
        printf("#   %-15s", incident_category_code(a));
        for (int c = 0; c < NCLASS; c++) printf(" %13d", matrix[a][c]);
        printf("\n");
    }
    printf("#   unsure (needs_triage): %d (%.1f%%), of them right %d; emergencies filed as a "
           "confident other: %d of %d (%.1f%%); other reports left unsure: %d\n",
           unsure, n ? 100.0 * unsure / n : 0, unsure_right, sunk, emergencies,
           emergencies ? 100.0 * sunk / emergencies : 0, other_unsure);
    snprintf(what, sizeof what, "%s: at least %d reports", name, min_reports);
    CHECK(n >= min_reports, what);
    snprintf(what, sizeof what, "%s: overall accuracy at least %.0f%%", name, MIN_OVERALL);
    CHECK(n > 0 && 100.0 * right / n >= MIN_OVERALL, what);
    snprintf(what, sizeof what, "%s: every category at least %.0f%%", name, MIN_CATEGORY);
    CHECK(categories_ok, what);
    snprintf(what, sizeof what, "%s: at most %.0f%% of the emergencies filed as a confident other",
             name, MAX_SINK);
    CHECK(emergencies > 0 && 100.0 * sunk / emergencies <= MAX_SINK, what);
}

static void test_accuracy(void)
{
    static struct labelled corpus[MAX_REPORTS], holdout[MAX_REPORTS], fresh[MAX_REPORTS];
    int nc = read_labelled("rules/triage/corpus.tsv", corpus, MAX_REPORTS);
    int nh = read_labelled("tests/rules/triage-holdout.tsv", holdout, MAX_REPORTS);
    int nf = read_labelled("tests/rules/triage-fresh.tsv", fresh, MAX_REPORTS);
    int leaked = 0;

    CHECK(nc >= 1000 && nh >= 250 && nf >= 200,
          "the corpus, the held-out fifth and the fresh batch read");
    CHECK(nc + nh >= 1500, "at least 1,500 labelled reports (training and held out)");
    for (int i = 0; i < nh; i++) leaked += seen_in(corpus, nc, holdout[i].text);
    for (int i = 0; i < nf; i++) leaked += seen_in(corpus, nc, fresh[i].text);
    CHECK(nc > 0 && leaked == 0, "no held-out or fresh report is in the training corpus");
    if (nh > 0) evaluate("held-out", holdout, nh, 250);
    if (nf > 0) evaluate("fresh", fresh, nf, 200);
    free_labelled(corpus, nc > 0 ? nc : 0);
    free_labelled(holdout, nh > 0 ? nh : 0);
    free_labelled(fresh, nf > 0 ? nf : 0);
}

static void check_words(const struct thai_words *tw, const char *text, const char *want,
                        const char *what)
{
    char got[1024];

    triage_features_words(tw, text, strlen(text), got, sizeof got);
    if (strcmp(got, want) != 0) printf("# \"%s\" reads \"%s\", wanted \"%s\"\n", text, got, want);
    CHECK(strcmp(got, want) == 0, what);
}

static void test_words(void)
{
    char err[256];
    struct thai_words *tw = thai_words_open(err, sizeof err);

    CHECK(tw != NULL, "libthai's dictionary loads");
    if (tw == NULL) return;
    check_words(tw, "ถูกขังอยู่ในห้อง", "ถูก ขัง อยู่ ใน ห้อง ", "Thai is cut into words");
    check_words(tw, "ช่วยด้วยยยยย!!! HELP", "ช่วย ด้วย | help ",
                "a letter typed many times is kept once; case folded; ! breaks a clause");
    check_words(tw, "อายุ ๑๒ ขวบ", "อายุ 12 ขวบ ", "Thai digits read as digits");
    check_words(tw, "ยึดโทรสับ ล็อกห้อง", "ยึด โทรศัพท์ ล็อค ห้อง ",
                "common misspellings read as the word meant");
    check_words(tw, "ไม่ได้ถูกขังนะ แต่เขาขู่", "ไม่ ได้ !ถูก !ขัง !นะ แต่ เขา ขู่ ",
                "a negation reaches the words after it, up to a space or แต่");
    check_words(tw, "ออกไปไหนไม่ได้เพราะแม่ล็อคประตู", "ออก ไป ไหน ไม่ ได้ เพราะ แม่ ล็อค ประตู ",
                "a ไม่ได้ after a verb (cannot) negates nothing");
    check_words(tw, "he didn't lock me in, but he took my passport",
                "he didn't !lock !me !in | but he took my passport ",
                "an English negation reaches three words, not past a comma");
    check_words(tw, "u dont get it plz", "you don't !get !it !please ",
                "chat spellings read as words");
    check_words(tw, "no weapons here", "no !weapons here ", "\"no\" reaches the next word only");
    thai_words_free(tw);
}

/* Every run of Thai letters in a corpus file, cut by thai_words_cut and by libthai's th_brk:
 * how many runs are cut the same way, and how many of th_brk's word starts ours has. */
static void test_same_cuts_as_libthai(const char *name)
{
    char path[4096], err[256];
    struct thai_words *tw = thai_words_open(err, sizeof err);
    ThBrk *brk = th_brk_new(NULL);
    size_t len, runs = 0, same = 0, theirs = 0, found = 0;
    char *text, what[160];

    snprintf(path, sizeof path, "%s/%s", root, name);
    text = slurp(path, &len);
    CHECK(tw != NULL && brk != NULL && text != NULL, "the dictionary, th_brk and the corpus load");
    for (size_t i = 0; tw && brk && text && i < len;) {
        size_t j = i, cuts[512];
        thchar_t tis[512];
        int pos[512], ours, n;

        while (j + 3 <= len && (unsigned char)text[j] == 0xE0 &&
               ((unsigned char)text[j + 1] == 0xB8 || (unsigned char)text[j + 1] == 0xB9) &&
               j - i < 3 * 500) {
            uint32_t cp = 0x0E00 | (((uint32_t)text[j + 1] & 0x3F) << 6) | (text[j + 2] & 0x3F);
            if (!thai_words_is_thai(cp) || (cp >= 0x0E50 && cp <= 0x0E59) || cp == 0x0E46 ||
                cp == 0x0E2F)
                break;
            tis[(j - i) / 3] = th_uni2tis((thwchar_t)cp);
            j += 3;
        }
        if (j == i) {
            i++;
            continue;
        }
        n = (int)((j - i) / 3);
        tis[n] = 0;
        ours = thai_words_cut(tw, text + i, j - i, cuts, 512);
        {
            int k = th_brk_find_breaks(brk, tis, pos, (size_t)n), agree = 0, all = 0;
            for (int a = 0; a < k; a++) {
                if (pos[a] <= 0 || pos[a] >= n) continue;
                all++;
                for (int b = 0; b < ours; b++) agree += cuts[b] == 3 * (size_t)pos[a];
            }
            runs++;
            theirs += (size_t)all;
            found += (size_t)agree;
            same += agree == all && ours == all;
        }
        i = j;
    }
    printf("# %s: %zu Thai runs, %zu cut as th_brk cuts them (%.1f%%); %zu of th_brk's %zu word "
           "starts found\n",
           name, runs, same, runs ? 100.0 * same / runs : 0, found, theirs);
    snprintf(what, sizeof what, "%s: at least 98%% of the runs cut as libthai's th_brk cuts them",
             name);
    CHECK(runs > 1000 && same >= runs * 98 / 100, what);
    free(text);
    if (brk) th_brk_delete(brk);
    thai_words_free(tw);
}

static void test_behaviour(void)
{
    struct rules_guess g;
    struct incident in = {.category = INCIDENT_CATEGORY_NONE, .description = ""};
    struct rules_decision d;
    const char *text;

    CHECK(rules_has_model(table), "the shipped table classifies with the model");
    rules_guess_text(table, "", 0, &g);
    CHECK(!(g.category == INCIDENT_OTHER && g.confident), "an empty text is no confident other");
    text = "ขอความช่วยเหลือด่วน";
    rules_guess_text(table, text, strlen(text), &g);
    CHECK(!(g.category == INCIDENT_OTHER && g.confident),
          "a bare cry for help is no confident other: too short to show nothing is wrong");
    text = "zzz qqq";
    rules_guess_text(table, text, strlen(text), &g);
    CHECK(!(g.category == INCIDENT_OTHER && g.confident),
          "a text without one known word is no confident other");
    in.description = (char *)"xq";
    CHECK(rules_decide(table, &in, &d) == 0 && (d.needs_triage || d.category != INCIDENT_OTHER),
          "rules_decide never files a text it cannot read as a confident other");
    if (d.needs_triage)
        CHECK(d.priority == 1 && d.dispatch == 0, "needs_triage: P1 and not dispatched");
    text = "ลูกสาวถูกแฟนขังไว้ในห้อง ออกมาไม่ได้ ยึดโทรศัพท์ไปด้วย";
    rules_guess_text(table, text, strlen(text), &g);
    CHECK(g.category == INCIDENT_DETENTION && g.confident, "a plain detention is a confident one");
    in.description = (char *)text;
    CHECK(rules_decide(table, &in, &d) == 0 && d.classified && !d.needs_triage &&
              d.category == INCIDENT_DETENTION && d.confidence == g.confidence,
          "rules_decide carries the model's guess and confidence");
    in.category = INCIDENT_OTHER;
    CHECK(rules_decide(table, &in, &d) == 0 && !d.classified && !d.needs_triage &&
              d.confidence == 1.0,
          "a given category is never triaged again");
}

static struct triage_model *load(const char *text, char *err, size_t errlen)
{
    return triage_model_load_buffer(text, strlen(text), "m.tsv", err, errlen);
}

#define HEAD                                                                                       \
    "version\t1\nfeatures_version\t6\nclasses\tthreat\tdetention\tabuse_risk\tmental_crisis\t"     \
    "gathering\tother\ncorpus\t0123456789abcdef\nkeywords\t0123456789abcdef\nconfident\t0.5\n"     \
    "confident_other\t0.8\n"

static void check_refused(const char *text, const char *want, const char *what)
{
    char err[512] = "";
    struct triage_model *m = load(text, err, sizeof err);

    if (m != NULL || strstr(err, want) == NULL) printf("# got \"%s\", wanted \"%s\"\n", err, want);
    CHECK(m == NULL && strstr(err, want) != NULL, what);
    triage_model_free(m);
}

static void test_loader(void)
{
    char err[512] = "";
    struct triage_model *m;
    struct triage_feature_set set = {0};
    const int none[NCLASS] = {0};
    double p[NCLASS], sum = 0;

    m = load("# a comment\n" HEAD "weights\t1\nbias\t0\t0\t0\t0\t0\t0\nw:ขัง\t0\t30\t0\t0\t0\t0\n",
             err, sizeof err);
    CHECK(m != NULL && triage_model_size(m) == 1 &&
              fabs(triage_model_threshold(m, INCIDENT_OTHER) - 0.8) < 1e-9 &&
              fabs(triage_model_threshold(m, INCIDENT_THREAT) - 0.5) < 1e-9,
          "a well-formed file loads with its thresholds");
    if (m != NULL && triage_features_extract(NULL, "ขัง", strlen("ขัง"), none, &set) == 0) {
        triage_model_predict(m, &set, p);
        for (int c = 0; c < NCLASS; c++) sum += p[c];
        CHECK(p[INCIDENT_DETENTION] > 0.5 && fabs(sum - 1.0) < 1e-9,
              "a feature's weights move the probabilities, which sum to 1");
    }
    triage_features_free(&set);
    triage_model_free(m);
    check_refused("", "m.tsv:0: expected 'version'", "an empty file is refused");
    check_refused("version\t2\n", "m.tsv:1: version", "another version is refused");
    check_refused("version\t1\nfeatures_version\t99\n", "m.tsv:2: features_version",
                  "a model of other features is refused");
    check_refused("version\t1\nfeatures_version\t6\nclasses\tdetention\tthreat\tabuse_risk\t"
                  "mental_crisis\tgathering\tother\n",
                  "m.tsv:3: classes: expected 'threat'", "classes out of order are refused");
    check_refused(HEAD "weights\t1\nbias\t0\t0\t0\t0\t0\nw:x\t0\t0\t0\t0\t0\t0\n",
                  "m.tsv:9: feature 'bias': expected 6 weights", "five weights are refused");
    check_refused(HEAD "weights\t1\nbias\t0\t0\t0\t0\t0\t0\nw:x\t0\tnan\t0\t0\t0\t0\n",
                  "m.tsv:10: feature 'w:x': 'nan' is not a finite number",
                  "a weight that is not a finite number is refused");
    /* Found by fuzz_triage_model (corpus/fuzz_triage_model/regress-weight-beyond-float): a
     * weight beyond what a float holds became infinite in the table, and every probability NaN. */
    check_refused(HEAD "weights\t1\nbias\t0\t0\t0\t0\t0\t0\nw:x\t0\t1.1e39\t0\t0\t0\t0\n",
                  "m.tsv:10: feature 'w:x': '1.1e39' is not a finite number",
                  "a weight beyond a float's range is refused");
    check_refused(HEAD "weights\t2\nbias\t0\t0\t0\t0\t0\t0\nw:x\t0\t0\t0\t0\t0\t0\n"
                       "w:x\t1\t0\t0\t0\t0\t0\n",
                  "m.tsv:11: feature 'w:x': listed twice", "a feature listed twice is refused");
    check_refused(HEAD "weights\t2\nbias\t0\t0\t0\t0\t0\t0\nw:x\t0\t0\t0\t0\t0\t0\n",
                  "'weights' says", "fewer feature lines than announced are refused");
    check_refused(HEAD "weights\t1\nbias\t0\t0\t0\t0\t0\t0\nz:x\t0\t0\t0\t0\t0\t0\n",
                  "m.tsv:10: feature 'z:x': a name starts with", "an unknown kind is refused");
    check_refused("version\t1\nfeatures_version\t6\nclasses\tthreat\tdetention\tabuse_risk\t"
                  "mental_crisis\tgathering\tother\ncorpus\tXYZ\n",
                  "m.tsv:4: corpus: expected 16 lowercase hex digits", "a bad digest is refused");
    check_refused("version\t1\nfeatures_version\t6\nclasses\tthreat\tdetention\tabuse_risk\t"
                  "mental_crisis\tgathering\tother\ncorpus\t0123456789abcdef\nkeywords\t"
                  "0123456789abcdef\nconfident\t1.5\n",
                  "m.tsv:6: confident: expected a number from 0 to 1",
                  "a threshold above 1 is refused");
}

int main(void)
{
    const char *env = getenv("ESS_SOURCE_ROOT");
    char path[4096], err[512];

    snprintf(root, sizeof root, "%s", env ? env : ".");
    snprintf(path, sizeof path, "%s/rules/rules.json", root);
    table = rules_load_file(path, err, sizeof err);
    CHECK(table != NULL, "the shipped rule table loads");
    if (table == NULL) return tap_done();
    keywords_only = rules_load_file(path, err, sizeof err);
    snprintf(path, sizeof path, "%s/rules/triage-model.tsv", root);
    if (rules_load_model_file(table, path, err, sizeof err) != 0) printf("# %s\n", err);
    test_words();
    test_same_cuts_as_libthai("rules/triage/corpus.tsv");
    test_loader();
    test_digests();
    test_behaviour();
    test_accuracy();
    rules_free(table);
    rules_free(keywords_only);
    return tap_done();
}
