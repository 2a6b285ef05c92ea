/* Unit tests of rules/text.c and rules/json.c: strict UTF-8 validation at every boundary
 * (overlongs, surrogates, truncation, > U+10FFFF, NUL), decoding, cutting and UTF-16 counting, the
 * folding of Thai and English free text for matching, percent-decoding, copies, and parsing
 * untrusted JSON bodies with the typed getters. */
#include "json.h"
#include "tap.h"
#include "text.h"

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VALID(lit) text_utf8_valid((lit), sizeof(lit) - 1)

/* 1 when folding s[0..len) gives exactly expect. */
static int folds_to(const char *s, size_t len, const char *expect)
{
    size_t n = 12345;
    char *f = text_fold(s, len, &n);
    int ok = f != NULL && n == strlen(expect) && strcmp(f, expect) == 0 && f[n] == '\0';

    if (!ok) printf("# folded to \"%s\", expected \"%s\"\n", f != NULL ? f : "(null)", expect);
    free(f);
    return ok;
}

#define FOLDS(lit, expect) folds_to((lit), sizeof(lit) - 1, (expect))

static void test_valid(void)
{
    CHECK(VALID(""), "the empty string is valid");
    CHECK(VALID("hello, world"), "ASCII is valid");
    CHECK(VALID("ลูกสาวถูกแฟนขังไว้ในห้อง"), "Thai text is valid");
    CHECK(VALID("เขตพระนคร กรุงเทพฯ 10200"), "Thai with digits, space and ฯ is valid");
    CHECK(VALID("\x7f"), "U+007F is valid");
    CHECK(VALID("\xc2\x80"), "U+0080, the first two-byte scalar, is valid");
    CHECK(VALID("\xdf\xbf"), "U+07FF, the last two-byte scalar, is valid");
    CHECK(VALID("\xe0\xa0\x80"), "U+0800, the first three-byte scalar, is valid");
    CHECK(VALID("\xed\x9f\xbf"), "U+D7FF, just below the surrogates, is valid");
    CHECK(VALID("\xee\x80\x80"), "U+E000, just above the surrogates, is valid");
    CHECK(VALID("\xef\xbf\xbf"), "U+FFFF is valid");
    CHECK(VALID("\xf0\x90\x80\x80"), "U+10000, the first four-byte scalar, is valid");
    CHECK(VALID("\xf4\x8f\xbf\xbf"), "U+10FFFF, the last scalar, is valid");
    CHECK(VALID("\xf0\x9f\x98\x80"), "an emoji is valid");
    CHECK(text_utf8_valid(NULL, 0), "NULL with length 0 is valid (empty)");
}

static void test_invalid(void)
{
    CHECK(!text_utf8_valid("a\0b", 3), "an embedded NUL is invalid");
    CHECK(!text_utf8_valid("\0", 1), "a lone NUL is invalid");
    CHECK(!VALID("\xc0\x80"), "overlong NUL (C0 80) is invalid");
    CHECK(!VALID("\xc1\xbf"), "overlong two-byte (C1 BF) is invalid");
    CHECK(!VALID("\xc0\xaf"), "overlong '/' (C0 AF) is invalid");
    CHECK(!VALID("\xe0\x80\xaf"), "overlong three-byte '/' is invalid");
    CHECK(!VALID("\xe0\x9f\xbf"), "overlong three-byte U+07FF is invalid");
    CHECK(!VALID("\xf0\x80\x80\xaf"), "overlong four-byte '/' is invalid");
    CHECK(!VALID("\xf0\x8f\xbf\xbf"), "overlong four-byte U+FFFF is invalid");
    CHECK(!VALID("\xed\xa0\x80"), "surrogate U+D800 is invalid");
    CHECK(!VALID("\xed\xbf\xbf"), "surrogate U+DFFF is invalid");
    CHECK(!VALID("\xed\xa0\xbd\xed\xb8\x80"), "a CESU-8 surrogate pair is invalid");
    CHECK(!VALID("\xf4\x90\x80\x80"), "U+110000 is invalid");
    CHECK(!VALID("\xf5\x80\x80\x80"), "lead byte F5 is invalid");
    CHECK(!VALID("\xff"), "byte FF is invalid");
    CHECK(!VALID("\xfe"), "byte FE is invalid");
    CHECK(!VALID("\x80"), "a lone continuation byte is invalid");
    CHECK(!VALID("a\xbf"
                 "b"),
          "a continuation byte between ASCII is invalid");
    CHECK(!VALID("\xc3"), "a truncated two-byte sequence is invalid");
    CHECK(!VALID("\xe0\xb8"), "a truncated Thai character is invalid");
    CHECK(!VALID("\xf0\x9f\x98"), "a truncated four-byte sequence is invalid");
    CHECK(!VALID("\xe0\xb8"
                 "a"),
          "a sequence cut by ASCII is invalid");
    CHECK(!VALID("ถูก\xe0\xb8"), "Thai text ending in a truncated character is invalid");
    CHECK(!text_utf8_valid("\xe0\xb8\x96", 2), "the length argument is honoured");
}

static void test_fold(void)
{
    char *f;
    size_t n;

    CHECK(FOLDS("Help ME, please!", "helpmeplease"),
          "English: lower case, no space or punctuation");
    CHECK(FOLDS("I'm being held -- call 911?", "imbeingheldcall911"), "apostrophes and dashes go");
    CHECK(FOLDS("\t a\r\nb\v\fc ", "abc"), "every ASCII white space goes");
    CHECK(FOLDS("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", ""),
          "every ASCII punctuation character goes");
    CHECK(FOLDS("ABCXYZ abcxyz 0129", "abcxyzabcxyz0129"), "letters and digits stay");
    CHECK(FOLDS("ถูกขังอยู่ในห้อง ช่วยด้วย", "ถูกขังอยู่ในห้องช่วยด้วย"), "Thai: the space goes");
    CHECK(FOLDS("ถูก\xe2\x80\x8b"
                "ขัง",
                "ถูกขัง"),
          "Thai: U+200B zero-width space goes");
    CHECK(FOLDS("ถูก\xe2\x80\x8c\xe2\x80\x8d"
                "ขัง",
                "ถูกขัง"),
          "U+200C and U+200D go");
    CHECK(FOLDS("\xef\xbb\xbf"
                "ถูกขัง",
                "ถูกขัง"),
          "a leading BOM (U+FEFF) goes");
    CHECK(FOLDS("ถูก\xc2\xa0"
                "ขัง",
                "ถูกขัง"),
          "U+00A0 no-break space goes");
    CHECK(FOLDS("ถูก\xe3\x80\x80"
                "ขัง",
                "ถูกขัง"),
          "U+3000 ideographic space goes");
    CHECK(FOLDS("ช่วย\xe2\x80\x9c"
                "ด้วย\xe2\x80\x9d\xe2\x80\xa6",
                "ช่วยด้วย"),
          "curly quotes, ellipsis go");
    CHECK(FOLDS("ช่วย\xef\xbc\x81", "ช่วย"), "fullwidth exclamation mark goes");
    CHECK(FOLDS("\xe0\xb9\x8f"
                "ช่วย\xe0\xb9\x9a",
                "ช่วย"),
          "Thai fongman and angkhankhu go");
    CHECK(FOLDS("กรุงเทพฯ เด็กๆ", "กรุงเทพฯเด็กๆ"), "Thai ฯ and ๆ stay as written");
    CHECK(FOLDS("๑๒๓", "๑๒๓"), "Thai digits stay");
    CHECK(FOLDS("Café ÉTÉ", "caféÉtÉ"), "only ASCII letters are lowercased");
    CHECK(FOLDS("a\x80"
                "b\xc3"
                "c\xe0\xb8"
                "d\xed\xa0\x80"
                "e",
                "abcde"),
          "invalid bytes are dropped, the rest kept");
    CHECK(FOLDS("ถูก\xe0\xb8", "ถูก"), "a truncated trailing character is dropped");
    CHECK(folds_to("a\0b", 3, "ab"), "NUL is dropped");
    CHECK(FOLDS("", ""), "the empty string folds to the empty string");

    f = text_fold("ABC", 2, NULL);
    CHECK(f != NULL && strcmp(f, "ab") == 0, "the length is honoured; out_len may be NULL");
    free(f);
    f = text_fold(NULL, 0, &n);
    CHECK(f != NULL && n == 0 && f[0] == '\0', "NULL with length 0 folds to the empty string");
    free(f);
}

static void test_json_scan(void)
{
    char deep[64], copy[64];
    const char *nul = "{\"a\":\"x\\u0000y\"}";
    const char *braces_in_string = "{\"a\":\"{{{{{{{{{{[[[[[[[\"}";
    int i;

    for (i = 0; i < 9; i++) deep[i] = '[';
    for (i = 0; i < 9; i++) deep[9 + i] = ']';
    deep[18] = '\0';
    CHECK(text_json_scan(deep + 1, 16, 8, NULL) == TEXT_JSON_OK,
          "8 levels of nesting pass a limit of 8");
    CHECK(text_json_scan(deep, 18, 8, NULL) == TEXT_JSON_TOO_DEEP,
          "9 levels refused at a limit of 8");
    CHECK(text_json_scan(braces_in_string, strlen(braces_in_string), 2, NULL) == TEXT_JSON_OK,
          "brackets inside strings do not count");
    CHECK(text_json_scan("]", 1, 8, NULL) == TEXT_JSON_UNBALANCED, "a stray closing bracket");
    CHECK(text_json_scan(nul, strlen(nul), 8, NULL) == TEXT_JSON_NUL, "\\u0000 reported");
    snprintf(copy, sizeof copy, "%s", nul);
    CHECK(text_json_scan(copy, strlen(copy), 8, copy) == TEXT_JSON_OK &&
              strstr(copy, "\\uFFFD") != NULL && strstr(copy, "\\u0000") == NULL,
          "\\u0000 rewritten as \\uFFFD when asked");
    CHECK(text_json_scan("{\"a\":\"\\\\u0000\"}", 13, 8, NULL) == TEXT_JSON_OK,
          "an escaped backslash before u0000 is not a NUL escape");
}

static void test_utf8_cut(void)
{
    uint32_t cp = 0;

    CHECK(text_utf8_char_len('a') == 1 && text_utf8_char_len(0xC3) == 2 &&
              text_utf8_char_len(0xE0) == 3 && text_utf8_char_len(0xF0) == 4,
          "char_len: lead bytes announce 1 to 4 bytes");
    CHECK(text_utf8_char_len(0x80) == 1 && text_utf8_char_len(0xC0) == 1 &&
              text_utf8_char_len(0xC1) == 1 && text_utf8_char_len(0xF5) == 1 &&
              text_utf8_char_len(0xFF) == 1,
          "char_len: continuation, C0, C1 and F5..FF bytes count as one");
    CHECK(text_utf8_decode("\xe0\xb8\x81", 3, &cp) == 3 && cp == 0x0E01, "decode: Thai ko kai");
    CHECK(text_utf8_decode("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1F600, "decode: an emoji");
    CHECK(text_utf8_decode("\xe0\xb8", 2, &cp) == 0, "decode: a sequence cut short is refused");
    CHECK(text_utf8_decode("\xc0\xaf", 2, &cp) == 0, "decode: an overlong is refused");
    CHECK(text_utf8_decode("\xed\xa0\x80", 3, &cp) == 0, "decode: a surrogate is refused");
    CHECK(text_utf8_decode("\xf4\x90\x80\x80", 4, &cp) == 0, "decode: past U+10FFFF is refused");
    CHECK(text_utf8_decode("", 0, &cp) == 0, "decode: nothing decodes to nothing");

    CHECK(text_utf8_last_start("ab", 2) == 1, "last_start: ASCII");
    CHECK(text_utf8_last_start("a\xe0\xb8\x81", 4) == 1, "last_start: a Thai letter");
    CHECK(text_utf8_last_start("\xf0\x9f\x98\x80", 4) == 0, "last_start: an emoji");
    CHECK(text_utf8_last_start("a\x80\x80\x80\x80", 5) == 1,
          "last_start: backs over at most three continuation bytes");

    CHECK(text_utf8_complete("a\xe0\xb8\x81", 4) == 4, "complete: a whole last letter stays");
    CHECK(text_utf8_complete("a\xe0\xb8\x81", 3) == 1, "complete: a cut letter is left out");
    CHECK(text_utf8_complete("a\xe0\xb8\x81", 2) == 1, "complete: a lone lead byte is left out");
    CHECK(text_utf8_complete("\xf0\x9f\x98", 3) == 0, "complete: a cut emoji is left out");
    CHECK(text_utf8_complete("", 0) == 0, "complete: the empty string");
}

static void test_utf16(void)
{
    CHECK(text_utf16_units("abc", 3) == 3, "units: ASCII counts one each");
    CHECK(text_utf16_units("\xe0\xb8\x81\xe0\xb8\x82", 6) == 2, "units: Thai counts one each");
    CHECK(text_utf16_units("a\xf0\x9f\x98\x80", 5) == 3, "units: an emoji counts two");
    CHECK(text_utf16_prefix("abcdef", 4) == 4, "prefix: ASCII is cut at the limit");
    CHECK(text_utf16_prefix("ab", 4) == 2, "prefix: a short text is whole");
    CHECK(text_utf16_prefix("a\xf0\x9f\x98\x80", 2) == 1,
          "prefix: an emoji that would pass the limit is left out whole");
    CHECK(text_utf16_prefix("a\xf0\x9f\x98\x80", 3) == 5, "prefix: an emoji within the limit");
    CHECK(text_utf16_prefix("\xe0\xb8\x81\xe0\xb8", 5) == 3,
          "prefix: a sequence cut short by the NUL is left out");
}

static void test_percent(void)
{
    char *s;

    CHECK(text_hex_byte("41") == 0x41 && text_hex_byte("fF") == 0xFF && text_hex_byte("00") == 0,
          "hex_byte: upper, lower and zero");
    CHECK(text_hex_byte("g1") == -1 && text_hex_byte("1g") == -1, "hex_byte: a non-hex digit");
    CHECK(text_hex_byte("") == -1 && text_hex_byte("4") == -1, "hex_byte: stops at the NUL");

    s = text_percent_decode("p%40ss%2Fw%25rd", 15);
    CHECK(s != NULL && strcmp(s, "p@ss/w%rd") == 0, "percent_decode: escapes are decoded");
    free(s);
    s = text_percent_decode("abc%41", 3);
    CHECK(s != NULL && strcmp(s, "abc") == 0, "percent_decode: only n bytes are read");
    free(s);
    CHECK(text_percent_decode("a%4", 3) == NULL, "percent_decode: a short escape is refused");
    CHECK(text_percent_decode("a%zz", 4) == NULL, "percent_decode: a non-hex escape is refused");
    CHECK(text_percent_decode("a%00b", 5) == NULL, "percent_decode: %00 is refused");
    s = text_percent_decode("", 0);
    CHECK(s != NULL && s[0] == '\0', "percent_decode: the empty string");
    free(s);
}

static void test_dup(void)
{
    char *s = text_dup("ทีม");
    CHECK(s != NULL && strcmp(s, "ทีม") == 0, "dup: a copy");
    free(s);
    s = text_dup(NULL);
    CHECK(s != NULL && s[0] == '\0', "dup: NULL reads as the empty string");
    free(s);
    s = text_dup_len("abcdef", 3);
    CHECK(s != NULL && strcmp(s, "abc") == 0, "dup_len: n bytes and a NUL");
    free(s);
}

/* Parses the bytes of lit from a heap buffer of exactly their length (no NUL after them), so that
 * a sanitizer build catches any read past the body. */
static enum json_parse_result parse_exact(const char *lit, size_t len, int flags, cJSON **out)
{
    char *body = malloc(len > 0 ? len : 1);
    enum json_parse_result r;

    if (body == NULL) return JSON_PARSE_NO_MEMORY;
    memcpy(body, lit, len);
    r = json_parse_object(body, len, 3, flags, out);
    free(body);
    return r;
}

#define PARSE(lit, flags, out) parse_exact((lit), sizeof(lit) - 1, (flags), (out))

static void test_json_parse(void)
{
    cJSON *doc = NULL;
    const cJSON *item = NULL;

    CHECK(PARSE("{\"a\": \"x\", \"n\": 12}", 0, &doc) == JSON_PARSE_OK && cJSON_IsObject(doc),
          "parse: an object");
    cJSON_Delete(doc);
    CHECK(PARSE(" {\"a\": 1} \r\n\t", 0, &doc) == JSON_PARSE_OK, "parse: white space around it");
    cJSON_Delete(doc);
    CHECK(PARSE("{\"a\": 1}", 0, &doc) == JSON_PARSE_OK && doc != NULL,
          "parse: a body that is not NUL-terminated");
    cJSON_Delete(doc);
    doc = (cJSON *)1;
    CHECK(json_parse_object(NULL, 0, 3, 0, &doc) == JSON_PARSE_EMPTY && doc == NULL,
          "parse: no body is empty, and *out is NULL");
    CHECK(PARSE("{\"a\": \"\xff\"}", 0, &doc) == JSON_PARSE_NOT_UTF8, "parse: invalid UTF-8");
    CHECK(PARSE("{\"a\": 1}\0", 0, &doc) == JSON_PARSE_NOT_UTF8, "parse: a raw NUL byte");
    CHECK(PARSE("{\"a\": [[[1]]]}", 0, &doc) == JSON_PARSE_TOO_DEEP, "parse: nested too deeply");
    CHECK(PARSE("{\"a\": [[1]]}", 0, &doc) == JSON_PARSE_OK, "parse: nested as deep as allowed");
    cJSON_Delete(doc);
    CHECK(PARSE("{\"a\": \"x\\u0000y\"}", 0, &doc) == JSON_PARSE_NUL && doc == NULL,
          "parse: a \\u0000 escape is refused");
    CHECK(PARSE("{\"a\": \"x\\u0000y\"}", JSON_PARSE_REWRITE_NUL, &doc) == JSON_PARSE_OK &&
              strcmp(json_string(doc, "a", ""), "x\xef\xbf\xbdy") == 0,
          "parse: with REWRITE_NUL a \\u0000 escape reads as U+FFFD");
    cJSON_Delete(doc);
    CHECK(PARSE("{\"a\": 1} x", 0, &doc) == JSON_PARSE_INVALID, "parse: trailing bytes");
    CHECK(PARSE("{\"a\": 1", 0, &doc) == JSON_PARSE_INVALID, "parse: an object cut short");
    CHECK(PARSE("}{", 0, &doc) == JSON_PARSE_INVALID, "parse: unbalanced brackets");
    CHECK(PARSE("[1, 2]", 0, &doc) == JSON_PARSE_NOT_OBJECT && doc == NULL, "parse: an array");
    CHECK(PARSE("\"text\"", 0, &doc) == JSON_PARSE_NOT_OBJECT, "parse: a string");
    CHECK(PARSE("12", 0, &doc) == JSON_PARSE_NOT_OBJECT, "parse: a bare number");
    CHECK(PARSE("{\"a\": 1, \"b\": 2, \"a\": 3}", JSON_PARSE_UNIQUE, &doc) ==
                  JSON_PARSE_DUPLICATE &&
              doc == NULL,
          "parse: with UNIQUE a member named twice is refused");
    CHECK(PARSE("{\"o\": [{\"k\": 1, \"k\": 1}]}", JSON_PARSE_UNIQUE, &doc) == JSON_PARSE_DUPLICATE,
          "parse: with UNIQUE a duplicate in a nested object is refused");
    CHECK(PARSE("{\"a\": {\"a\": 1}, \"b\": [{\"a\": 1}, {\"a\": 2}]}", JSON_PARSE_UNIQUE, &doc) ==
              JSON_PARSE_OK,
          "parse: with UNIQUE one name in different objects is fine");
    cJSON_Delete(doc);
    CHECK(PARSE("{\"a\": 1, \"a\": 3}", 0, &doc) == JSON_PARSE_OK,
          "parse: without UNIQUE a duplicate is left to the getters");
    cJSON_Delete(doc);

    doc = cJSON_Parse("{\"s\": \"ok\", \"n\": 2.5, \"t\": \"17\", \"bad\": \"17x\", "
                      "\"e\": \"\", \"z\": null, \"d\": 1, \"d\": 2, \"o\": {}}");
    CHECK(doc != NULL, "getters: a document to read");
    if (doc == NULL) return;
    CHECK(strcmp(json_string(doc, "s", NULL), "ok") == 0, "string: a string member");
    CHECK(json_string(doc, "n", NULL) == NULL && strcmp(json_string(doc, "x", "-"), "-") == 0,
          "string: a number or a missing member gives the fallback");
    {
        int present = -1;

        CHECK(json_number(doc, "n", &present) == 2.5 && present == 1, "number: a JSON number");
        CHECK(json_number(doc, "t", &present) == 17 && present == 1, "number: a numeric string");
        CHECK(json_number(doc, "bad", &present) == 0 && present == 0,
              "number: a string that is not wholly a number");
        CHECK(json_number(doc, "e", &present) == 0 && present == 0, "number: an empty string");
        CHECK(json_number(doc, "x", &present) == 0 && present == 0, "number: a missing member");
        CHECK(json_number(doc, "o", NULL) == 0, "number: an object, present may be NULL");
    }
    CHECK(json_member(doc, "s", &item) == 0 && cJSON_IsString(item), "member: found");
    CHECK(json_member(doc, "z", &item) == 0 && item == NULL, "member: null reads as absent");
    CHECK(json_member(doc, "x", &item) == 0 && item == NULL, "member: absent");
    CHECK(json_member(doc, "d", &item) == -1 && item == NULL, "member: a duplicate is refused");
    CHECK(json_member(doc, "S", &item) == 0 && item == NULL, "member: names are case-sensitive");
    {
        double v = -1;

        CHECK(json_number_in(doc, "n", 0, 3, &v) == JSON_NUMBER_OK && v == 2.5,
              "number_in: a number within range");
        CHECK(json_number_in(doc, "n", 3, 4, &v) == JSON_NUMBER_OUT_OF_RANGE && v == 2.5,
              "number_in: out of range, *out left alone");
        CHECK(json_number_in(doc, "t", 0, 100, &v) == JSON_NUMBER_NOT_NUMBER,
              "number_in: a numeric string is not a number");
        CHECK(json_number_in(doc, "x", 0, 1, &v) == JSON_NUMBER_ABSENT &&
                  json_number_in(doc, "z", 0, 1, &v) == JSON_NUMBER_ABSENT,
              "number_in: missing or null is absent");
        CHECK(json_number_in(doc, "d", 0, 5, &v) == JSON_NUMBER_DUPLICATE,
              "number_in: a duplicate is refused");
    }
    {
        const char *s = "x";
        size_t n = 9;

        CHECK(json_text(doc, "s", 2, &s, &n) == 0 && s != NULL && strcmp(s, "ok") == 0 && n == 2,
              "text: a string within its limit");
        CHECK(json_text(doc, "s", 1, &s, &n) == -1 && s == NULL && n == 0,
              "text: one byte over the limit is refused");
        CHECK(json_text(doc, "z", 9, &s, &n) == 0 && s == NULL && n == 0, "text: null is absent");
        CHECK(json_text(doc, "x", 9, &s, &n) == 0 && s == NULL, "text: a missing member");
        CHECK(json_text(doc, "n", 9, &s, &n) == -1, "text: a number is refused");
        CHECK(json_text(doc, "d", 9, &s, &n) == -1, "text: a duplicate is refused");
    }
    cJSON_Delete(doc);
    doc = cJSON_CreateObject();
    {
        const char *s;
        size_t n;

        CHECK(cJSON_AddStringToObject(doc, "s", "a\xff") != NULL &&
                  json_text(doc, "s", 9, &s, &n) == -1 && s == NULL,
              "text: a string that is not valid UTF-8 is refused");
    }
    cJSON_Delete(doc);
}

static void test_time(void)
{
    char t[TEXT_TIME_SIZE];

    text_time_rfc3339(1795230245123LL, t);
    CHECK(strcmp(t, "2026-11-21T03:04:05.123Z") == 0, "time: RFC 3339 UTC with milliseconds");
    text_time_rfc3339(1709164800000LL, t);
    CHECK(strcmp(t, "2024-02-29T00:00:00.000Z") == 0, "time: a leap day at midnight");
    text_time_rfc3339(0, t);
    CHECK(strcmp(t, "1970-01-01T00:00:00.000Z") == 0, "time: the epoch");
    text_time_rfc3339(-1, t);
    CHECK(strcmp(t, "1970-01-01T00:00:00.000Z") == 0, "time: a negative time reads as 0");

    CHECK(text_time_parse_rfc3339("2026-11-21T03:04:05.123Z") == 1795230245123LL,
          "time parse: what text_time_rfc3339 writes reads back");
    CHECK(text_time_parse_rfc3339("2024-02-29T00:00:00.000Z") == 1709164800000LL,
          "time parse: a leap day");
    CHECK(text_time_parse_rfc3339("1970-01-01T00:00:00Z") == 0, "time parse: no fraction");
    CHECK(text_time_parse_rfc3339("2026-11-21T03:04:05.1Z") == 1795230245100LL &&
              text_time_parse_rfc3339("2026-11-21T03:04:05.123456789Z") == 1795230245123LL,
          "time parse: 1 to 9 fraction digits, milliseconds kept");
    {
        int ok = 1;
        for (int64_t ms = 0; ms < 4102444800000LL; ms += 86399999LL * 17) {
            text_time_rfc3339(ms, t);
            if (text_time_parse_rfc3339(t) != ms) ok = 0;
        }
        CHECK(ok, "time parse: round trips over 1970-2100");
    }
    CHECK(text_time_parse_rfc3339(NULL) == -1 && text_time_parse_rfc3339("") == -1 &&
              text_time_parse_rfc3339("2026-11-21 03:04:05Z") == -1 &&
              text_time_parse_rfc3339("2026-11-21T03:04:05+07:00") == -1 &&
              text_time_parse_rfc3339("2026-11-21T03:04:05.Z") == -1 &&
              text_time_parse_rfc3339("2026-11-21T03:04:05.1234567890Z") == -1 &&
              text_time_parse_rfc3339("2026-13-01T00:00:00Z") == -1 &&
              text_time_parse_rfc3339("2026-02-30T00:00:00Z") == -1 &&
              text_time_parse_rfc3339("2026-11-21T24:00:00Z") == -1 &&
              text_time_parse_rfc3339("1969-12-31T23:59:59Z") == -1 &&
              text_time_parse_rfc3339("2026-11-21T03:04:05ZZ") == -1 &&
              text_time_parse_rfc3339("2026-1l-21T03:04:05Z") == -1,
          "time parse: anything else is -1");

    CHECK(text_time_parse_w3c("2026-11-21T03:04:05.123Z") == 1795230245123LL &&
              text_time_parse_w3c("2026-11-21T10:04:05.123+07:00") == 1795230245123LL &&
              text_time_parse_w3c("2026-11-20T22:34:05.123-04:30") == 1795230245123LL,
          "time parse w3c: Z and offsets east and west name the same instant");
    CHECK(text_time_parse_w3c("2026-11-21T03:04Z") == 1795230240000LL &&
              text_time_parse_w3c("2026-11-21T10:04+07:00") == 1795230240000LL,
          "time parse w3c: seconds optional");
    CHECK(text_time_parse_w3c("2026-11-21") == -1 &&
              text_time_parse_w3c("2026-11-21T03:04:05") == -1 &&
              text_time_parse_w3c("2026-11-21T03:04:05+0700") == -1 &&
              text_time_parse_w3c("2026-11-21T03:04:05+24:00") == -1 &&
              text_time_parse_w3c("2026-11-21T03:04:05+07:00x") == -1 &&
              text_time_parse_w3c("1970-01-01T06:00:00+07:00") == -1 &&
              text_time_parse_w3c(NULL) == -1,
          "time parse w3c: no zone, a bad offset, or before 1970 is -1");
}

static void test_buf(void)
{
    struct text_buf b = {0};
    char *s;
    int ok = 1;

    s = text_buf_take(&b);
    CHECK(s != NULL && s[0] == '\0', "buf: nothing added gives the empty string");
    free(s);
    text_buf_add(&b, "เคส ");
    text_buf_add(&b, NULL);
    text_buf_printf(&b, "%s-%03d", "HM", 7);
    s = text_buf_take(&b);
    CHECK(s != NULL && strcmp(s, "เคส HM-007") == 0, "buf: strings and printf appended");
    CHECK(b.s == NULL && b.len == 0, "buf: empty after take");
    free(s);
    for (int i = 0; i < 1000; i++) text_buf_printf(&b, "%04d,", i);
    s = text_buf_take(&b);
    if (s == NULL || strlen(s) != 5000 || strncmp(s + 4995, "0999,", 5) != 0) ok = 0;
    CHECK(ok, "buf: grows past its first allocation");
    free(s);
    text_buf_add_html(&b, "<a href=\"x\">'ทีม' & co</a>");
    text_buf_add_html(&b, NULL);
    text_buf_add_html(&b, "");
    text_buf_add_html(&b, "plain");
    s = text_buf_take(&b);
    CHECK(s != NULL &&
              strcmp(s, "&lt;a href=&quot;x&quot;&gt;&#39;ทีม&#39; &amp; co&lt;/a&gt;plain") == 0,
          "buf: HTML escaping of & < > \" ' and nothing else");
    free(s);
    {
        const char *raw = "a\"b\\c\n\r\t\x01\x1f ทีม";
        cJSON *parsed;
        text_buf_add_json(&b, raw, strlen(raw));
        s = text_buf_take(&b);
        CHECK(s != NULL && strcmp(s, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f ทีม\"") == 0,
              "buf: a JSON string: quoted, \" \\ and control characters escaped, UTF-8 as is");
        parsed = s ? cJSON_Parse(s) : NULL;
        CHECK(cJSON_IsString(parsed) && strcmp(parsed->valuestring, raw) == 0,
              "buf: the JSON string reads back as the text");
        cJSON_Delete(parsed);
        free(s);
        text_buf_add_json(&b, "", 0);
        text_buf_add_json(&b, "x\0y", 3);
        s = text_buf_take(&b);
        CHECK(s != NULL && strcmp(s, "\"\"\"x\\u0000y\"") == 0,
              "buf: JSON strings of nothing and of a NUL byte");
        free(s);
    }
    text_buf_add_len(&b, "abcdef", 3);
    text_buf_add_len(&b, NULL, 0);
    s = text_buf_take(&b);
    CHECK(s != NULL && strcmp(s, "abc") == 0, "buf: add_len appends n bytes");
    free(s);
}

/* 1 when the phone digits of s are expect (NULL: they must not fit in outsize). */
static int phone_digits_are(const char *s, size_t outsize, const char *expect)
{
    char out[64] = "x";
    int n = text_phone_digits(s, strlen(s), out, outsize);

    if (expect == NULL) return n == -1 && out[0] == '\0';
    return n == (int)strlen(expect) && strcmp(out, expect) == 0;
}

static void test_plain(void)
{
    CHECK(text_is_plain("", 0), "plain: the empty text");
    CHECK(text_is_plain("ไปถึงแล้ว\n\tรอ 5 นาที\r\n", strlen("ไปถึงแล้ว\n\tรอ 5 นาที\r\n")),
          "plain: Thai with tab and line breaks");
    CHECK(!text_is_plain("a\x1b[2Jb", 6), "plain: an escape sequence is not");
    CHECK(!text_is_plain("a\x7f", 2), "plain: DEL is not");
    CHECK(!text_is_plain("a\0b", 3), "plain: a NUL within the length is not");
}

static void test_trim_space(void)
{
    const char *s = " \t\r\nรอ 5 นาที\n \r";
    const char *start = s;
    size_t n = text_trim_space(&s, strlen(s));
    CHECK(n == strlen("รอ 5 นาที") && strncmp(s, "รอ 5 นาที", n) == 0 && s == start + 4,
          "trim: spaces, tabs and line breaks around, none within");
    s = " \n\t ";
    CHECK(text_trim_space(&s, 4) == 0, "trim: a blank text is empty");
    s = "";
    CHECK(text_trim_space(&s, 0) == 0, "trim: the empty text");
    s = "a  b";
    CHECK(text_trim_space(&s, 4) == 4, "trim: nothing to trim");
    s = "\xc2\xa0x";
    CHECK(text_trim_space(&s, 3) == 3, "trim: a no-break space is kept (not ASCII space)");
}

static void test_phone_digits(void)
{
    CHECK(phone_digits_are("081-234-5678", 64, "0812345678"), "phone: hyphens skipped");
    CHECK(phone_digits_are("+66 (81) 234 5678", 64, "66812345678"),
          "phone: plus, brackets and spaces skipped");
    CHECK(phone_digits_are("๐๘๑๒๓๔๕๖๗๘", 64, "0812345678"), "phone: Thai digits read as ASCII");
    CHECK(phone_digits_are("08๑ 2a3", 64, "08123"), "phone: mixed digits, a letter skipped");
    CHECK(phone_digits_are("", 64, ""), "phone: nothing gives no digits");
    CHECK(phone_digits_are("โทร. -", 64, ""), "phone: no digits in words");
    CHECK(phone_digits_are("\xff"
                           "12\xc3",
                           64, "12"),
          "phone: bytes that are not UTF-8 skipped");
    CHECK(phone_digits_are("12345", 6, "12345"), "phone: exactly as many digits as fit");
    CHECK(phone_digits_are("123456", 6, NULL), "phone: one digit too many: -1 and \"\"");
    CHECK(phone_digits_are("1", 1, NULL), "phone: no room at all: -1");
}

int main(void)
{
    test_plain();
    test_trim_space();
    test_phone_digits();
    test_valid();
    test_invalid();
    test_fold();
    test_json_scan();
    test_utf8_cut();
    test_utf16();
    test_percent();
    test_dup();
    test_json_parse();
    test_buf();
    test_time();
    return tap_done();
}
