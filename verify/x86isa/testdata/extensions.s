# AVX-512 subsets, AMX, VAES, GFNI, VPCLMULQDQ, SHA and ADX instructions for
# TestDecodeSubsetsAgainstObjdump: assembled by binutils' as, read back with
# objdump, whose mnemonics decide what each must need.
	.text
	vpopcntd %zmm1, %zmm2
	vpopcntd %ymm1, %ymm2
	vpopcntd %xmm1, %xmm2
	vpopcntq %zmm1, %zmm2
	vpopcntq %ymm1, %ymm2
	vpopcntq %xmm1, %xmm2
	vpopcntb %zmm1, %zmm2
	vpopcntb %ymm1, %ymm2
	vpopcntb %xmm1, %xmm2
	vpopcntw %zmm1, %zmm2
	vpopcntw %ymm1, %ymm2
	vpopcntw %xmm1, %xmm2
	vpshufbitqmb %zmm1, %zmm2, %k2
	vpshufbitqmb %ymm1, %ymm2, %k2
	vpshufbitqmb %xmm1, %xmm2, %k2
	vpdpbusd %zmm1, %zmm2, %zmm3
	vpdpbusd %ymm1, %ymm2, %ymm3
	vpdpbusd %xmm1, %xmm2, %xmm3
	vpdpbusds %zmm1, %zmm2, %zmm3
	vpdpbusds %ymm1, %ymm2, %ymm3
	vpdpbusds %xmm1, %xmm2, %xmm3
	vpdpwssd %zmm1, %zmm2, %zmm3
	vpdpwssd %ymm1, %ymm2, %ymm3
	vpdpwssd %xmm1, %xmm2, %xmm3
	vpdpwssds %zmm1, %zmm2, %zmm3
	vpdpwssds %ymm1, %ymm2, %ymm3
	vpdpwssds %xmm1, %xmm2, %xmm3
	vpshldvd %zmm1, %zmm2, %zmm3
	vpshldvd %ymm1, %ymm2, %ymm3
	vpshldvd %xmm1, %xmm2, %xmm3
	vpshldvw %zmm1, %zmm2, %zmm3
	vpshldvw %ymm1, %ymm2, %ymm3
	vpshldvw %xmm1, %xmm2, %xmm3
	vpshrdvq %zmm1, %zmm2, %zmm3
	vpshrdvq %ymm1, %ymm2, %ymm3
	vpshrdvq %xmm1, %xmm2, %xmm3
	vpermb %zmm1, %zmm2, %zmm3
	vpermb %ymm1, %ymm2, %ymm3
	vpermb %xmm1, %xmm2, %xmm3
	vpermi2b %zmm1, %zmm2, %zmm3
	vpermi2b %ymm1, %ymm2, %ymm3
	vpermi2b %xmm1, %xmm2, %xmm3
	vpermt2b %zmm1, %zmm2, %zmm3
	vpermt2b %ymm1, %ymm2, %ymm3
	vpermt2b %xmm1, %xmm2, %xmm3
	vpmultishiftqb %zmm1, %zmm2, %zmm3
	vpmultishiftqb %ymm1, %ymm2, %ymm3
	vpmultishiftqb %xmm1, %xmm2, %xmm3
	vpmadd52luq %zmm1, %zmm2, %zmm3
	vpmadd52luq %ymm1, %ymm2, %ymm3
	vpmadd52luq %xmm1, %xmm2, %xmm3
	vpmadd52huq %zmm1, %zmm2, %zmm3
	vpmadd52huq %ymm1, %ymm2, %ymm3
	vpmadd52huq %xmm1, %xmm2, %xmm3
	vcvtne2ps2bf16 %zmm1, %zmm2, %zmm3
	vcvtne2ps2bf16 %ymm1, %ymm2, %ymm3
	vcvtne2ps2bf16 %xmm1, %xmm2, %xmm3
	vdpbf16ps %zmm1, %zmm2, %zmm3
	vdpbf16ps %ymm1, %ymm2, %ymm3
	vdpbf16ps %xmm1, %xmm2, %xmm3
	vaddph %zmm1, %zmm2, %zmm3
	vaddph %ymm1, %ymm2, %ymm3
	vaddph %xmm1, %xmm2, %xmm3
	vmulph %zmm1, %zmm2, %zmm3
	vmulph %ymm1, %ymm2, %ymm3
	vmulph %xmm1, %xmm2, %xmm3
	vfmadd231ph %zmm1, %zmm2, %zmm3
	vfmadd231ph %ymm1, %ymm2, %ymm3
	vfmadd231ph %xmm1, %xmm2, %xmm3
	vp2intersectd %zmm1, %zmm2, %k2
	vp2intersectd %ymm1, %ymm2, %k2
	vp2intersectd %xmm1, %xmm2, %k2
	vpconflictd %zmm1, %zmm2
	vpconflictd %ymm1, %ymm2
	vpconflictd %xmm1, %xmm2
	vplzcntq %zmm1, %zmm2
	vplzcntq %ymm1, %ymm2
	vplzcntq %xmm1, %xmm2
	vpaddb %zmm1, %zmm2, %zmm3
	vpaddb %ymm1, %ymm2, %ymm3
	vpaddb %xmm1, %xmm2, %xmm3
	vpsubw %zmm1, %zmm2, %zmm3
	vpsubw %ymm1, %ymm2, %ymm3
	vpsubw %xmm1, %xmm2, %xmm3
	vpmullw %zmm1, %zmm2, %zmm3
	vpmullw %ymm1, %ymm2, %ymm3
	vpmullw %xmm1, %xmm2, %xmm3
	vpshufb %zmm1, %zmm2, %zmm3
	vpshufb %ymm1, %ymm2, %ymm3
	vpshufb %xmm1, %xmm2, %xmm3
	vpminub %zmm1, %zmm2, %zmm3
	vpminub %ymm1, %ymm2, %ymm3
	vpminub %xmm1, %xmm2, %xmm3
	vpmaddwd %zmm1, %zmm2, %zmm3
	vpmaddwd %ymm1, %ymm2, %ymm3
	vpmaddwd %xmm1, %xmm2, %xmm3
	vpacksswb %zmm1, %zmm2, %zmm3
	vpacksswb %ymm1, %ymm2, %ymm3
	vpacksswb %xmm1, %xmm2, %xmm3
	vpunpcklbw %zmm1, %zmm2, %zmm3
	vpunpcklbw %ymm1, %ymm2, %ymm3
	vpunpcklbw %xmm1, %xmm2, %xmm3
	vpavgb %zmm1, %zmm2, %zmm3
	vpavgb %ymm1, %ymm2, %ymm3
	vpavgb %xmm1, %xmm2, %xmm3
	vpsadbw %zmm1, %zmm2, %zmm3
	vpsadbw %ymm1, %ymm2, %ymm3
	vpsadbw %xmm1, %xmm2, %xmm3
	vpaddd %zmm1, %zmm2, %zmm3
	vpaddd %ymm1, %ymm2, %ymm3
	vpaddd %xmm1, %xmm2, %xmm3
	vpaddq %zmm1, %zmm2, %zmm3
	vpaddq %ymm1, %ymm2, %ymm3
	vpaddq %xmm1, %xmm2, %xmm3
	vpmulld %zmm1, %zmm2, %zmm3
	vpmulld %ymm1, %ymm2, %ymm3
	vpmulld %xmm1, %xmm2, %xmm3
	vpmullq %zmm1, %zmm2, %zmm3
	vpmullq %ymm1, %ymm2, %ymm3
	vpmullq %xmm1, %xmm2, %xmm3
	vandps %zmm1, %zmm2, %zmm3
	vandps %ymm1, %ymm2, %ymm3
	vandps %xmm1, %xmm2, %xmm3
	vorpd %zmm1, %zmm2, %zmm3
	vorpd %ymm1, %ymm2, %ymm3
	vorpd %xmm1, %xmm2, %xmm3
	vxorps %zmm1, %zmm2, %zmm3
	vxorps %ymm1, %ymm2, %ymm3
	vxorps %xmm1, %xmm2, %xmm3
	vandnpd %zmm1, %zmm2, %zmm3
	vandnpd %ymm1, %ymm2, %ymm3
	vandnpd %xmm1, %xmm2, %xmm3
	vaddps %zmm1, %zmm2, %zmm3
	vaddps %ymm1, %ymm2, %ymm3
	vaddps %xmm1, %xmm2, %xmm3
	vfmadd213pd %zmm1, %zmm2, %zmm3
	vfmadd213pd %ymm1, %ymm2, %ymm3
	vfmadd213pd %xmm1, %xmm2, %xmm3
	vpermd %zmm1, %zmm2, %zmm3
	vpermd %ymm1, %ymm2, %ymm3
	vpermq $1, %zmm1, %zmm2
	vpermq $1, %ymm1, %ymm2
	vpternlogd $1, %zmm1, %zmm2, %zmm3
	vpternlogd $1, %ymm1, %ymm2, %ymm3
	vpternlogd $1, %xmm1, %xmm2, %xmm3
	vpternlogq $1, %zmm1, %zmm2, %zmm3
	vpternlogq $1, %ymm1, %ymm2, %ymm3
	vpternlogq $1, %xmm1, %xmm2, %xmm3
	vrangeps $1, %zmm1, %zmm2, %zmm3
	vrangeps $1, %ymm1, %ymm2, %ymm3
	vrangeps $1, %xmm1, %xmm2, %xmm3
	vreduceps $1, %zmm1, %zmm2
	vreduceps $1, %ymm1, %ymm2
	vreduceps $1, %xmm1, %xmm2
	vfpclassps $1, %zmm1, %k2
	vfpclassps $1, %ymm1, %k2
	vfpclassps $1, %xmm1, %k2
	vaesenc %zmm1, %zmm2, %zmm3
	vaesenc %ymm1, %ymm2, %ymm3
	vaesenc %xmm1, %xmm2, %xmm3
	vaesdeclast %zmm1, %zmm2, %zmm3
	vaesdeclast %ymm1, %ymm2, %ymm3
	vaesdeclast %xmm1, %xmm2, %xmm3
	vgf2p8affineqb $1, %zmm1, %zmm2, %zmm3
	vgf2p8affineqb $1, %ymm1, %ymm2, %ymm3
	vgf2p8affineqb $1, %xmm1, %xmm2, %xmm3
	vgf2p8mulb %zmm1, %zmm2, %zmm3
	vgf2p8mulb %ymm1, %ymm2, %ymm3
	vgf2p8mulb %xmm1, %xmm2, %xmm3
	vpclmulqdq $1, %zmm1, %zmm2, %zmm3
	vpclmulqdq $1, %ymm1, %ymm2, %ymm3
	vpclmulqdq $1, %xmm1, %xmm2, %xmm3
	vpexpandb %zmm1, %zmm2
	vpexpandb %ymm1, %ymm2
	vpexpandb %xmm1, %xmm2
	vpcompressw %zmm1, %zmm2
	vpcompressw %ymm1, %ymm2
	vpcompressw %xmm1, %xmm2
	vpabsb %zmm1, %zmm2
	vpabsb %ymm1, %ymm2
	vpabsb %xmm1, %xmm2
	vpabsq %zmm1, %zmm2
	vpabsq %ymm1, %ymm2
	vpabsq %xmm1, %xmm2
	vcvtqq2pd %zmm1, %zmm2
	vcvtqq2pd %ymm1, %ymm2
	vcvtqq2pd %xmm1, %xmm2
	vcvtpd2qq %zmm1, %zmm2
	vcvtpd2qq %ymm1, %ymm2
	vcvtpd2qq %xmm1, %xmm2
	vcvttps2uqq %xmm1, %xmm2
	vpmovm2d %k1, %zmm2
	vpmovm2d %k1, %ymm2
	vpmovm2d %k1, %xmm2
	vpmovb2m %zmm1, %k2
	vpmovb2m %ymm1, %k2
	vpmovb2m %xmm1, %k2
	vpbroadcastmw2d %k1, %zmm2
	vpbroadcastmw2d %k1, %ymm2
	vpbroadcastmw2d %k1, %xmm2
	vptestmb %zmm1, %zmm2, %k2
	vptestmb %ymm1, %ymm2, %k2
	vptestmb %xmm1, %xmm2, %k2
	vptestnmd %zmm1, %zmm2, %k2
	vptestnmd %ymm1, %ymm2, %k2
	vptestnmd %xmm1, %xmm2, %k2
	vmovdqu8 %zmm1, %zmm2
	vmovdqu8 %ymm1, %ymm2
	vmovdqu8 %xmm1, %xmm2
	vmovdqu16 %zmm1, %zmm2
	vmovdqu16 %ymm1, %ymm2
	vmovdqu16 %xmm1, %xmm2
	vmovdqu32 %zmm1, %zmm2
	vmovdqu32 %ymm1, %ymm2
	vmovdqu32 %xmm1, %xmm2
	vmovdqu64 %zmm1, %zmm2
	vmovdqu64 %ymm1, %ymm2
	vmovdqu64 %xmm1, %xmm2
	vmovdqa64 %zmm1, %zmm2
	vmovdqa64 %ymm1, %ymm2
	vmovdqa64 %xmm1, %xmm2
	vpshufhw $1, %zmm1, %zmm2
	vpshufhw $1, %ymm1, %ymm2
	vpshufhw $1, %xmm1, %xmm2
	vpsrldq $1, %zmm1, %zmm2
	vpsrldq $1, %ymm1, %ymm2
	vpsrldq $1, %xmm1, %xmm2
	vpsrlw $1, %zmm1, %zmm2
	vpsrlw $1, %ymm1, %ymm2
	vpsrlw $1, %xmm1, %xmm2
	vpsllvw %zmm1, %zmm2, %zmm3
	vpsllvw %ymm1, %ymm2, %ymm3
	vpsllvw %xmm1, %xmm2, %xmm3
	vpsravd %zmm1, %zmm2, %zmm3
	vpsravd %ymm1, %ymm2, %ymm3
	vpsravd %xmm1, %xmm2, %xmm3
	vpsrlvq %zmm1, %zmm2, %zmm3
	vpsrlvq %ymm1, %ymm2, %ymm3
	vpsrlvq %xmm1, %xmm2, %xmm3
	vpblendmb %zmm1, %zmm2, %zmm3
	vpblendmb %ymm1, %ymm2, %ymm3
	vpblendmb %xmm1, %xmm2, %xmm3
	vpblendmd %zmm1, %zmm2, %zmm3
	vpblendmd %ymm1, %ymm2, %ymm3
	vpblendmd %xmm1, %xmm2, %xmm3
	vpcmpb $1, %zmm1, %zmm2, %k2
	vpcmpb $1, %ymm1, %ymm2, %k2
	vpcmpb $1, %xmm1, %xmm2, %k2
	vpcmpud $1, %zmm1, %zmm2, %k2
	vpcmpud $1, %ymm1, %ymm2, %k2
	vpcmpud $1, %xmm1, %xmm2, %k2
	vdbpsadbw $1, %zmm1, %zmm2, %zmm3
	vdbpsadbw $1, %ymm1, %ymm2, %ymm3
	vdbpsadbw $1, %xmm1, %xmm2, %xmm3
	vaddsh %xmm1, %xmm2, %xmm3
	vaddss %xmm17, %xmm2, %xmm3
	vaddsd %xmm17, %xmm2, %xmm3
	vmovq %xmm17, %rax
	vmovd %eax, %xmm17
	vpinsrd $1, %eax, %xmm17, %xmm18
	vpextrq $1, %xmm17, %rax
	vpextrb $1, %xmm17, %eax
	vaddpd {rn-sae}, %zmm1, %zmm2, %zmm3
	vextracti64x2 $1, %zmm1, %xmm2
	vextracti32x8 $1, %zmm1, %ymm2
	vinserti32x4 $1, %xmm1, %ymm17, %ymm18
	vbroadcastss %xmm17, %ymm18
	vpbroadcastb %xmm17, %zmm18
	vpbroadcastd %eax, %ymm18
	kmovb %k1, %k2
	kmovw %k1, %k2
	kmovd %k1, %k2
	kmovq %k1, %k2
	kmovd %eax, %k2
	kandb %k1, %k2, %k3
	kandq %k1, %k2, %k3
	kortestw %k1, %k2
	ktestw %k1, %k2
	kaddw %k1, %k2, %k3
	kunpckbw %k1, %k2, %k3
	kunpckdq %k1, %k2, %k3
	kshiftrb $1, %k1, %k2
	kshiftlw $1, %k1, %k2
	kshiftrq $1, %k1, %k2
	vpdpbusd %xmm17, %xmm18, %xmm19
	{vex} vpdpbusd %ymm1, %ymm2, %ymm3
	tdpbssd %tmm1, %tmm2, %tmm3
	tdpbuud %tmm1, %tmm2, %tmm3
	tdpbf16ps %tmm1, %tmm2, %tmm3
	ldtilecfg (%rax)
	tileloadd (%rax,%rbx,1), %tmm1
	tilezero %tmm2
	vcvtph2ps %ymm1, %zmm2
	vcvtph2ps %xmm1, %ymm2
	vaesenc %ymm1, %ymm2, %ymm3
	vaesenc %xmm1, %xmm2, %xmm3
	vpclmulqdq $1, %ymm1, %ymm2, %ymm3
	vgf2p8affineqb $1, %xmm1, %xmm2, %xmm3
	sha256rnds2 %xmm0, %xmm1, %xmm2
	adcx %rax, %rbx
	adox %rax, %rbx
	vpermw %zmm1, %zmm2, %zmm3
	vpermw %ymm17, %ymm18, %ymm19
