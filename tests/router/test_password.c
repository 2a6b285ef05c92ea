/* Tests of router/base/password.c: scrypt hashes with a salt of their own, verification, the
 * checks on what is a password, and refusal of foreign or too costly stored hashes. */
#include <string.h>

#include "password.h"
#include "tap.h"

int main(void)
{
    static const char pw[] = "correct horse battery";
    char a[PASSWORD_HASH_SIZE], b[PASSWORD_HASH_SIZE];

    CHECK(password_hash(pw, strlen(pw), a) == 0 && strncmp(a, "scrypt$15$8$1$", 14) == 0,
          "a hash names scrypt and its cost");
    CHECK(strstr(a, pw) == NULL, "the hash does not hold the password");
    CHECK(password_hash(pw, strlen(pw), b) == 0 && strcmp(a, b) != 0,
          "the same password hashes differently (a random salt each time)");
    CHECK(password_verify(pw, strlen(pw), a) == 1 && password_verify(pw, strlen(pw), b) == 1,
          "both hashes verify the password");
    CHECK(password_verify("correct horse batterz", strlen(pw), a) == 0, "a wrong password: 0");
    CHECK(password_verify(pw, strlen(pw) - 1, a) == 0, "a prefix of the password: 0");
    CHECK(password_verify(pw, strlen(pw), password_dummy_hash) == 0,
          "the dummy hash is well formed and matches nothing");
    {
        char bad[PASSWORD_HASH_SIZE];
        memcpy(bad, a, sizeof bad);
        bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
        CHECK(password_verify(pw, strlen(pw), bad) == 0, "a hash changed in one digit: 0");
    }
    CHECK(password_verify(pw, strlen(pw), "bcrypt$whatever") == -1, "a foreign scheme: -1");
    CHECK(password_verify(pw, strlen(pw), NULL) == -1, "no hash: -1");
    CHECK(password_verify(pw, strlen(pw),
                          "scrypt$30$8$1$00112233445566778899aabbccddeeff$"
                          "0000000000000000000000000000000000000000000000000000000000000000") == -1,
          "a stored cost beyond the bounds is refused, not computed");
    CHECK(password_verify(pw, strlen(pw), "scrypt$15$8$1$0011$00") == -1,
          "a short salt is refused");
    CHECK(password_verify(pw, strlen(pw),
                          "scrypt$15$8$1$00112233445566778899aabbccddeeff$"
                          "0000000000000000000000000000000000000000000000000000000000000000$") ==
              -1,
          "a trailing field is refused");

    CHECK(password_acceptable("twelve chars", 12), "12 characters are enough");
    CHECK(!password_acceptable("eleven char", 11), "11 are not");
    CHECK(password_acceptable("รหัสผ่านยาวพอ", strlen("รหัสผ่านยาวพอ")),
          "Thai: counted in characters, not bytes");
    CHECK(!password_acceptable("รหัสผ่าน", strlen("รหัสผ่าน")),
          "8 Thai characters (24 bytes) are not enough");
    CHECK(!password_acceptable("twelve\tchars", 12), "no control characters");
    CHECK(!password_acceptable("twelve chars\xff", 13), "not valid UTF-8");
    {
        static char big[PASSWORD_MAX_BYTES + 2];
        memset(big, 'a', sizeof big - 1);
        CHECK(password_acceptable(big, PASSWORD_MAX_BYTES), "1024 bytes are accepted");
        CHECK(!password_acceptable(big, PASSWORD_MAX_BYTES + 1), "1025 are not");
    }
    return tap_done();
}
