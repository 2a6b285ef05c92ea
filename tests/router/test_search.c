/* Unit tests of router/api/search.c's reading of a search text: what a tracking code (leniently),
 * a case id and a phone number look like, what names more than one, and what names none. */
#include "search.h"
#include "tap.h"

#include <string.h>

static struct search_query sq;

static int parse(const char *q)
{
    return search_query_parse(q, strlen(q), &sq);
}

static int names(const char *q, const char *code, const char *case_id, const char *digits)
{
    return parse(q) == 0 && strcmp(sq.code, code) == 0 && strcmp(sq.case_id, case_id) == 0 &&
           strcmp(sq.phone_digits, digits) == 0;
}

int main(void)
{
    static const char id[] = "01JB7ZQ3V9W8X7Y6Z5A4B3C2D1";
    char longest[SEARCH_QUERY_MAX + 2];

    CHECK(names("HM-7K3-Q9X-TD8", "HM-7K3-Q9X-TD8", "", ""), "a tracking code");
    CHECK(names("hm 7k3 q9x td8", "HM-7K3-Q9X-TD8", "", ""), "a tracking code, leniently");
    CHECK(names("7K3Q9XTD8", "HM-7K3-Q9X-TD8", "", ""), "a tracking code without its prefix");
    CHECK(parse("HM-7K3-Q9X-TD4") == -1, "a tracking code with a bad check character names none");
    CHECK(names(id, "", id, ""), "a case id");
    CHECK(names("01jb7zq3v9w8x7y6z5a4b3c2d1", "", id, ""), "a case id in lower case");
    CHECK(parse("01JB7ZQ3V9W8X7Y6Z5A4B3C2DI") == -1, "26 characters that are no case id");
    CHECK(names("081-234-5678", "", "", "0812345678"), "a phone with hyphens");
    CHECK(names("+66 (81) 234.5678", "", "", "66812345678"), "a phone with + ( ) . and blanks");
    CHECK(names("๐๘๑๒๓๔๕๖๗๘", "", "", "0812345678"), "a phone in Thai digits");
    CHECK(names("1300", "", "", "1300"), "four digits are a phone");
    CHECK(parse("130") == -1, "three digits name nothing");
    CHECK(parse("0812345678 ext 2") == -1, "a phone with words is not one");
    CHECK(names("000000000", "HM-000-000-000", "", "000000000"),
          "nine digits may be a tracking code and a phone: both");
    CHECK(parse("") == -1, "the empty text names none");
    CHECK(parse("hello") == -1, "a word names none");
    memset(longest, '1', sizeof longest - 1);
    longest[SEARCH_QUERY_MAX] = '\0';
    CHECK(parse(longest) == -1, "64 digits: a phone of more than 32 digits is none");
    longest[SEARCH_QUERY_MAX] = '1';
    longest[SEARCH_QUERY_MAX + 1] = '\0';
    CHECK(parse(longest) == -1 && sq.code[0] == '\0', "65 bytes are too long");
    CHECK(search_query_parse(NULL, 0, &sq) == -1, "NULL names none");
    return tap_done();
}
