/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_presence.c - a fresh tap, and a chip that was already lying on the
 * reader (presence.c, the rule pcsc.c applies to every reader).
 */
#include "t.h"

#include "readerio.h"

static void
chip_on_the_reader_at_the_first_look_is_stale(void)
{
	struct vivo_presence p = { 0 };

	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 5) == 0);
	/* still there, nothing happened: never a tap */
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 5) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 5) == 0);
	/* lifted, then presented again: a tap */
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_ABSENT, 6) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 7) == 1);
}

static void
lifted_and_presented_between_two_looks_is_a_tap(void)
{
	struct vivo_presence p = { 0 };

	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 5) == 0);
	/* we never saw it absent, but the event counter moved twice */
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 7) == 1);
}

static void
chip_arriving_on_an_empty_reader_is_a_tap(void)
{
	struct vivo_presence p = { 0 };

	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_ABSENT, 0) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 1) == 1);
}

static void
mute_chip_is_no_tap_yet(void)
{
	struct vivo_presence p = { 0 };

	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_ABSENT, 0) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_MUTE, 1) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 1) == 1);
	/* a chip mute at the first look is stale all the same */
	p = (struct vivo_presence){ 0 };
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_MUTE, 3) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 3) == 0);
}

static void
reader_that_comes_back_with_a_chip_is_stale(void)
{
	struct vivo_presence p = { 0 };

	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_ABSENT, 0) == 0);
	vivo_presence_lost(&p); /* unplugged */
	/* back, with a chip on it and a new event counter: not lifted in
	 * front of us, so not a tap */
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 0) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 0) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_ABSENT, 1) == 0);
	T_CHECK(vivo_presence_update(&p, VIVO_CHIP_PRESENT, 2) == 1);
}

T_MAIN("presence", T_CASE(chip_on_the_reader_at_the_first_look_is_stale),
    T_CASE(lifted_and_presented_between_two_looks_is_a_tap),
    T_CASE(chip_arriving_on_an_empty_reader_is_a_tap),
    T_CASE(mute_chip_is_no_tap_yet),
    T_CASE(reader_that_comes_back_with_a_chip_is_stale))
